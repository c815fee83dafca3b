#include "reference/forwarder/registry_client.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/grpc/registry_client.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::forwarder {
namespace {

void Replace(sdk::Metadata& metadata, std::string_view key, std::string value) {
  metadata.erase(std::string(key));
  metadata.emplace(std::string(key), std::move(value));
}

}  // namespace

template <typename Types>
RegistryCallSetup<Types>::RegistryCallSetup(std::string url,
                                            std::shared_ptr<sdk::tools::TokenSigner> signer)
    : url_(std::move(url)), signer_(std::move(signer)) {}

template <typename Types>
absl::Status RegistryCallSetup<Types>::Prepare(sdk::Context& ctx, bool with_path) {
  ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{url_}));
  if (signer_ == nullptr) return absl::OkStatus();
  absl::StatusOr<sdk::tools::Token> token = signer_->Sign("");
  if (!token.ok()) {
    return absl::Status(token.status().code(), absl::StrCat("signing the registry call token: ",
                                                            token.status().message()));
  }
  sdk::Metadata& out = ctx.outgoing_metadata();
  Replace(out, api::metadata::kClientToken, token->value);
  Replace(out, api::metadata::kClientTokenExpires, sdk::tools::FormatRfc3339Nano(token->expires));
  if (with_path) {
    sdk::tools::RegistryPath path;
    path.index = 0;
    path.tokens.push_back(token->value);
    Replace(out, api::metadata::kRegistryPath, sdk::tools::FormatRegistryPathJson(path));
  }
  return absl::OkStatus();
}

template <typename Types>
absl::StatusOr<typename Types::Resource> RegistryCallSetup<Types>::Register(sdk::Context& ctx,
                                                                            Resource& resource,
                                                                            const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/true); !s.ok()) return s;
  return next.Register(ctx, resource);
}

template <typename Types>
absl::Status RegistryCallSetup<Types>::Find(sdk::Context& ctx, const Query& query,
                                            sdk::FindSink<Response>& sink, const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/false); !s.ok()) return s;
  return next.Find(ctx, query, sink);
}

template <typename Types>
absl::Status RegistryCallSetup<Types>::Unregister(sdk::Context& ctx, Resource& resource,
                                                  const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/true); !s.ok()) return s;
  return next.Unregister(ctx, resource);
}

template class RegistryCallSetup<sdk::NseRegistryTypes>;
template class RegistryCallSetup<sdk::NsRegistryTypes>;

std::shared_ptr<sdk::NseRegistryChain> MakeNseRegistryClient(const RegistryClientOptions& options) {
  auto chain = sdk::NseRegistryChain::Make(
      {std::make_shared<RegistryCallSetup<sdk::NseRegistryTypes>>(options.url, options.signer),
       std::make_shared<sdk::NseRegistryGrpcClient>(options.channels)});
  return chain.ok() ? *chain : nullptr;
}

std::shared_ptr<sdk::NsRegistryChain> MakeNsRegistryClient(const RegistryClientOptions& options) {
  auto chain = sdk::NsRegistryChain::Make(
      {std::make_shared<RegistryCallSetup<sdk::NsRegistryTypes>>(options.url, options.signer),
       std::make_shared<sdk::NsRegistryGrpcClient>(options.channels)});
  return chain.ok() ? *chain : nullptr;
}

}  // namespace nsmcert::forwarder
