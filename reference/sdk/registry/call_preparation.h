// registry call preparation (client side): what a daemon's registry client chain does before its
// gRPC client sends a call to the nsmgr that proxies it to the registry (spec §8.3). The NSE and
// the forwarder both use it.
//
// Guarantees, on every call: ClientUrl = the nsmgr's URL; the per-RPC token pair
// `nsm-client-token` / `nsm-client-token-expires` (spec §2.3) signed by this daemon, replacing any
// earlier pair; and, for Register and Unregister, the registry `path` metadata
// {"Index":0,"PathSegments":[{"token":<that token>}]} (spec §8.5), which the nsmgr extends (a Find
// carries no path). A signing error fails the call before anything is sent. A call that fails
// with UNAVAILABLE, or with DEADLINE_EXCEEDED on a channel in TRANSIENT_FAILURE, drops the nsmgr's
// cached channel from `channels` (when given), so the next attempt dials afresh instead of waiting
// out gRPC's reconnect backoff after an nsmgr restart. A deadline on a working channel keeps it.
//
// Chain placement: first in a registry client chain, right before the gRPC registry client.
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk {

template <typename Types>
class RegistryCallPreparation final : public RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = RegistryNext<Types>;

  // `signer` may be null (no tokens: only for tests against an unchecked registry chain);
  // `channels` may be null (nothing to redial).
  RegistryCallPreparation(std::string url, std::shared_ptr<tools::TokenSigner> signer,
                          std::shared_ptr<ChannelPool> channels = nullptr);

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override;
  absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override;

 private:
  absl::Status Prepare(Context& ctx, bool with_path) const;
  void RedialOn(const absl::Status& status) const;
  std::string url_;
  std::shared_ptr<tools::TokenSigner> signer_;
  std::shared_ptr<ChannelPool> channels_;
};

extern template class RegistryCallPreparation<NseRegistryTypes>;
extern template class RegistryCallPreparation<NsRegistryTypes>;

}  // namespace nsmcert::sdk
