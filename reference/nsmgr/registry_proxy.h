// registry_proxy (both registry services, client side): prepares a registry call for the gRPC
// registry client that follows it, so that the nsmgr forwards what it received to the registry at
// NSM_REGISTRY_URL as one more hop of the registry path (spec §8.5).
//
// Guarantees, before passing the call on:
// - ClientUrl = the registry's URL.
// - This hop's per-RPC token in `nsm-client-token` / `nsm-client-token-expires` (spec §2.3),
//   addressed to `registry_identity` when that is known. A signing error fails the call.
// - Register/Unregister: the registry `path` metadata. Inside the nsmgr's server chain it is the
//   path updatepath left in the call (CallRegistryPath, index at this hop); a call of the nsmgr's
//   own (an expiry's Unregister, say) starts a path of its own: {index 0, [own token]}.
// After a successful Register/Unregister, the path the registry returned in its `path` response
// header replaces the call's path (so the caller gets the whole path back); a missing or
// malformed header leaves the call's path as it was.
//
// Chain placement: the nsmgr's registry chains, after updatepath (and local_bypass for endpoints),
// right before the gRPC registry client (reference/sdk/grpc/registry_client.h).
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::nsmgr {

struct RegistryProxyOptions {
  // The registry, as an NSM URL (`tcp://host:port`, `unix:///path`).
  std::string registry_url;
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  // The registry's SPIFFE ID, for the `aud` of the per-RPC token; empty when unknown.
  std::string registry_identity;
};

template <typename Types>
class RegistryProxy final : public sdk::RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = sdk::RegistryNext<Types>;

  explicit RegistryProxy(RegistryProxyOptions options);

  absl::StatusOr<Resource> Register(sdk::Context& ctx, Resource& resource,
                                    const Next& next) override;
  absl::Status Find(sdk::Context& ctx, const Query& query, sdk::FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(sdk::Context& ctx, Resource& resource, const Next& next) override;

 private:
  // Sets URL, token and (with_path) the path metadata.
  absl::Status Prepare(sdk::Context& ctx, bool with_path);
  RegistryProxyOptions options_;
};

extern template class RegistryProxy<sdk::NseRegistryTypes>;
extern template class RegistryProxy<sdk::NsRegistryTypes>;
using NseRegistryProxy = RegistryProxy<sdk::NseRegistryTypes>;
using NsRegistryProxy = RegistryProxy<sdk::NsRegistryTypes>;

}  // namespace nsmcert::nsmgr
