#include "reference/sdk/registry/updatepath.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/registry/call_values.h"
#include "reference/sdk/tools/path.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::sdk::reg {
namespace {

std::vector<std::string_view> Values(const Metadata& md, std::string_view key) {
  std::vector<std::string_view> values;
  auto [begin, end] = md.equal_range(std::string(key));
  for (auto it = begin; it != end; ++it) values.push_back(it->second);
  return values;
}

// The path as the caller sent it; Go's grpcmetadata reads the last value when repeated.
absl::StatusOr<tools::RegistryPath> IncomingPath(const Context& ctx) {
  auto values = Values(ctx.incoming_metadata(), api::metadata::kRegistryPath);
  if (values.empty()) return tools::RegistryPath{};
  auto path = tools::ParseRegistryPathJson(values.back());
  if (!path.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("metadata \"path\": ", path.status().message()));
  }
  return path;
}

// Applies this hop's path update to the call and `path_ids`; returns the caller's index.
absl::StatusOr<uint32_t> UpdateCall(Context& ctx, tools::TokenSigner& signer,
                                    google::protobuf::RepeatedPtrField<std::string>& path_ids) {
  absl::StatusOr<tools::RegistryPath> path = IncomingPath(ctx);
  if (!path.ok()) return path.status();

  const Metadata& md = ctx.incoming_metadata();
  absl::StatusOr<tools::Token> peer = tools::PeerTokenFromMetadata(
      Values(md, api::metadata::kClientToken), Values(md, api::metadata::kClientTokenExpires));
  // Without a (well-formed) peer token the hop carries on with an empty one, as upstream does.
  std::string peer_token = peer.ok() ? peer->value : "";

  absl::StatusOr<tools::Token> own = signer.Sign("");
  if (!own.ok()) {
    return absl::Status(own.status().code(), absl::StrCat("updatepath: signing the own token: ",
                                                          own.status().message()));
  }
  absl::StatusOr<uint32_t> caller_index = tools::UpdateRegistryPath(*path, peer_token, own->value);
  if (!caller_index.ok()) return caller_index.status();
  if (absl::Status s = tools::UpdatePathIds(path_ids, *path, peer_token, own->value); !s.ok()) {
    return s;
  }
  ctx.values().Set(std::make_shared<CallRegistryPath>(CallRegistryPath{*std::move(path)}));
  auto expiry = std::make_shared<CallTokenExpiry>();
  expiry->own = own->expires;
  if (peer.ok()) expiry->peer = peer->expires;
  ctx.values().Set(std::move(expiry));
  return caller_index;
}

// Restores the caller's index and returns the path in the response header.
void ReplyPath(Context& ctx, uint32_t caller_index) {
  auto path = ctx.values().Get<CallRegistryPath>();
  if (path == nullptr) return;
  tools::RegistryPath reply = path->path;
  reply.index = caller_index;
  ctx.response_headers().emplace(std::string(api::metadata::kRegistryPath),
                                 tools::FormatRegistryPathJson(reply));
}

}  // namespace

template <typename Types>
UpdatePath<Types>::UpdatePath(std::shared_ptr<tools::TokenSigner> signer)
    : signer_(std::move(signer)) {}

template <typename Types>
absl::StatusOr<typename Types::Resource> UpdatePath<Types>::Register(Context& ctx,
                                                                     Resource& resource,
                                                                     const Next& next) {
  absl::StatusOr<uint32_t> caller_index = UpdateCall(ctx, *signer_, *resource.mutable_path_ids());
  if (!caller_index.ok()) return caller_index.status();
  auto result = next.Register(ctx, resource);
  if (result.ok()) ReplyPath(ctx, *caller_index);
  return result;
}

template <typename Types>
absl::Status UpdatePath<Types>::Unregister(Context& ctx, Resource& resource, const Next& next) {
  absl::StatusOr<uint32_t> caller_index = UpdateCall(ctx, *signer_, *resource.mutable_path_ids());
  if (!caller_index.ok()) return caller_index.status();
  absl::Status status = next.Unregister(ctx, resource);
  if (status.ok()) ReplyPath(ctx, *caller_index);
  return status;
}

template class UpdatePath<NseRegistryTypes>;
template class UpdatePath<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
