#include "reference/nsmgr/registry_proxy.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/registry/call_values.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::nsmgr {
namespace {

void Replace(sdk::Metadata& metadata, std::string_view key, std::string value) {
  metadata.erase(std::string(key));
  metadata.emplace(std::string(key), std::move(value));
}

// Takes the path the registry answered with, if it sent a well-formed one.
void TakeReturnedPath(sdk::Context& ctx) {
  auto call_path = ctx.values().Get<sdk::reg::CallRegistryPath>();
  if (call_path == nullptr) return;
  auto [begin, end] =
      ctx.response_metadata().equal_range(std::string(api::metadata::kRegistryPath));
  if (begin == end) return;
  auto returned = sdk::tools::ParseRegistryPathJson(std::prev(end)->second);
  if (!returned.ok() || returned->tokens.size() < call_path->path.tokens.size()) return;
  returned->index = call_path->path.index;
  call_path->path = *std::move(returned);
}

}  // namespace

template <typename Types>
RegistryProxy<Types>::RegistryProxy(RegistryProxyOptions options) : options_(std::move(options)) {}

template <typename Types>
absl::Status RegistryProxy<Types>::Prepare(sdk::Context& ctx, bool with_path) {
  ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{options_.registry_url}));
  absl::StatusOr<sdk::tools::Token> token = options_.signer->Sign(options_.registry_identity);
  if (!token.ok()) {
    return absl::Status(token.status().code(), absl::StrCat("signing the registry call token: ",
                                                            token.status().message()));
  }
  sdk::Metadata& out = ctx.outgoing_metadata();
  Replace(out, api::metadata::kClientToken, token->value);
  Replace(out, api::metadata::kClientTokenExpires, sdk::tools::FormatRfc3339Nano(token->expires));
  if (with_path) {
    sdk::tools::RegistryPath path;
    if (auto call_path = ctx.values().Get<sdk::reg::CallRegistryPath>()) {
      path = call_path->path;
    } else {
      path.tokens.push_back(token->value);
    }
    Replace(out, api::metadata::kRegistryPath, sdk::tools::FormatRegistryPathJson(path));
  }
  return absl::OkStatus();
}

template <typename Types>
absl::StatusOr<typename Types::Resource> RegistryProxy<Types>::Register(sdk::Context& ctx,
                                                                        Resource& resource,
                                                                        const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/true); !s.ok()) return s;
  auto registered = next.Register(ctx, resource);
  if (registered.ok()) TakeReturnedPath(ctx);
  return registered;
}

template <typename Types>
absl::Status RegistryProxy<Types>::Find(sdk::Context& ctx, const Query& query,
                                        sdk::FindSink<Response>& sink, const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/false); !s.ok()) return s;
  return next.Find(ctx, query, sink);
}

template <typename Types>
absl::Status RegistryProxy<Types>::Unregister(sdk::Context& ctx, Resource& resource,
                                              const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/true); !s.ok()) return s;
  absl::Status status = next.Unregister(ctx, resource);
  if (status.ok()) TakeReturnedPath(ctx);
  return status;
}

template class RegistryProxy<sdk::NseRegistryTypes>;
template class RegistryProxy<sdk::NsRegistryTypes>;

}  // namespace nsmcert::nsmgr
