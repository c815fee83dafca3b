// The endpoint's registry clients: both registry services, reached through the endpoint's nsmgr
// (NSM_CONNECT_TO), which proxies them to the registry (spec §8.3).
//
// RegistryCallPreparation guarantees, on every call: ClientUrl = the nsmgr's URL; the per-RPC
// token pair `nsm-client-token` / `nsm-client-token-expires` (spec §2.3) signed by this endpoint,
// replacing any earlier pair; and, for Register and Unregister, the registry `path` metadata
// {"Index":0,"PathSegments":[{"token":<that token>}]} (spec §8.5), which the nsmgr extends. A
// signing error fails the call before anything is sent. A call that fails with UNAVAILABLE or
// DEADLINE_EXCEEDED drops the nsmgr's cached channel from `channels` (when given), so the next
// attempt dials afresh instead of waiting out gRPC's reconnect backoff after an nsmgr restart.
//
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::nse {

template <typename Types>
class RegistryCallPreparation final : public sdk::RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = sdk::RegistryNext<Types>;

  // `signer` may be null (no tokens: only for tests against an unchecked registry chain);
  // `channels` may be null (nothing to redial).
  RegistryCallPreparation(std::string url, std::shared_ptr<sdk::tools::TokenSigner> signer,
                          std::shared_ptr<sdk::ChannelPool> channels = nullptr);

  absl::StatusOr<Resource> Register(sdk::Context& ctx, Resource& resource,
                                    const Next& next) override;
  absl::Status Find(sdk::Context& ctx, const Query& query, sdk::FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(sdk::Context& ctx, Resource& resource, const Next& next) override;

 private:
  absl::Status Prepare(sdk::Context& ctx, bool with_path) const;
  void RedialOn(const absl::Status& status) const;
  std::string url_;
  std::shared_ptr<sdk::tools::TokenSigner> signer_;
  std::shared_ptr<sdk::ChannelPool> channels_;
};

extern template class RegistryCallPreparation<sdk::NseRegistryTypes>;
extern template class RegistryCallPreparation<sdk::NsRegistryTypes>;

struct RegistryClients {
  std::shared_ptr<sdk::NsRegistryChain> ns;
  std::shared_ptr<sdk::NseRegistryChain> nse;
};

// [RegistryCallPreparation, gRPC registry client] for both services toward `nsmgr_url`.
RegistryClients MakeRegistryClients(const std::string& nsmgr_url,
                                    std::shared_ptr<sdk::tools::TokenSigner> signer,
                                    std::shared_ptr<sdk::ChannelPool> channels);

}  // namespace nsmcert::nse
