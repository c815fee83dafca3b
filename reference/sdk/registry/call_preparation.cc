#include "reference/sdk/registry/call_preparation.h"

#include <grpcpp/channel.h>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::sdk {
namespace {

void SetSingle(Metadata& metadata, std::string_view key, std::string value) {
  metadata.erase(std::string(key));
  metadata.emplace(std::string(key), std::move(value));
}

}  // namespace

template <typename Types>
RegistryCallPreparation<Types>::RegistryCallPreparation(std::string url,
                                                        std::shared_ptr<tools::TokenSigner> signer,
                                                        std::shared_ptr<ChannelPool> channels)
    : url_(std::move(url)), signer_(std::move(signer)), channels_(std::move(channels)) {}

template <typename Types>
void RegistryCallPreparation<Types>::RedialOn(const absl::Status& status) const {
  if (channels_ == nullptr) return;
  if (status.code() == absl::StatusCode::kUnavailable) {
    channels_->Forget(url_);
    return;
  }
  // A deadline alone says nothing about the nsmgr: on a saturated node a healthy channel times out
  // too, and dialling anew would only add work. Only a channel that failed to connect is dropped.
  if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    auto channel = channels_->Get(url_);
    if (channel.ok() &&
        (*channel)->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_TRANSIENT_FAILURE) {
      channels_->Forget(url_);
    }
  }
}

template <typename Types>
absl::Status RegistryCallPreparation<Types>::Prepare(Context& ctx, bool with_path) const {
  ctx.values().Set(std::make_shared<ClientUrl>(ClientUrl{url_}));
  if (signer_ == nullptr) return absl::OkStatus();
  // No `aud`: without TLS the nsmgr's identity is unknown.
  absl::StatusOr<tools::Token> token = signer_->Sign("");
  if (!token.ok()) {
    return absl::Status(
        token.status().code(),
        absl::StrCat("registry call to ", url_, ": signing the token: ", token.status().message()));
  }
  Metadata& out = ctx.outgoing_metadata();
  SetSingle(out, api::metadata::kClientToken, token->value);
  SetSingle(out, api::metadata::kClientTokenExpires, tools::FormatRfc3339Nano(token->expires));
  if (with_path) {
    tools::RegistryPath path;
    path.index = 0;
    path.tokens.push_back(token->value);
    SetSingle(out, api::metadata::kRegistryPath, tools::FormatRegistryPathJson(path));
  } else {
    out.erase(std::string(api::metadata::kRegistryPath));
  }
  return absl::OkStatus();
}

template <typename Types>
absl::StatusOr<typename Types::Resource> RegistryCallPreparation<Types>::Register(
    Context& ctx, Resource& resource, const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/true); !s.ok()) return s;
  auto result = next.Register(ctx, resource);
  if (!result.ok()) RedialOn(result.status());
  return result;
}

template <typename Types>
absl::Status RegistryCallPreparation<Types>::Find(Context& ctx, const Query& query,
                                                  FindSink<Response>& sink, const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/false); !s.ok()) return s;
  absl::Status status = next.Find(ctx, query, sink);
  RedialOn(status);
  return status;
}

template <typename Types>
absl::Status RegistryCallPreparation<Types>::Unregister(Context& ctx, Resource& resource,
                                                        const Next& next) {
  if (absl::Status s = Prepare(ctx, /*with_path=*/true); !s.ok()) return s;
  absl::Status status = next.Unregister(ctx, resource);
  RedialOn(status);
  return status;
}

template class RegistryCallPreparation<NseRegistryTypes>;
template class RegistryCallPreparation<NsRegistryTypes>;

}  // namespace nsmcert::sdk
