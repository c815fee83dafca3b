// The forwarder's registry clients: both registry services reached through its nsmgr
// (NSM_CONNECT_TO), which proxies them to the registry (spec §8.3, §8.4).
//
// Each call is prepared by RegistryCallSetup: ClientUrl = the nsmgr's URL, the per-RPC token
// (`nsm-client-token`, `nsm-client-token-expires`, spec §2.3) signed by this forwarder, and for
// Register/Unregister the registry `path` metadata {"Index":0,"PathSegments":[{"token":...}]}
// (spec §8.5), which the nsmgr extends. Then the gRPC registry client sends it.
//
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::forwarder {

struct RegistryClientOptions {
  std::string url;  // the nsmgr
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  std::shared_ptr<sdk::ChannelPool> channels;
};

template <typename Types>
class RegistryCallSetup final : public sdk::RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = sdk::RegistryNext<Types>;

  RegistryCallSetup(std::string url, std::shared_ptr<sdk::tools::TokenSigner> signer);

  absl::StatusOr<Resource> Register(sdk::Context& ctx, Resource& resource,
                                    const Next& next) override;
  absl::Status Find(sdk::Context& ctx, const Query& query, sdk::FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(sdk::Context& ctx, Resource& resource, const Next& next) override;

 private:
  absl::Status Prepare(sdk::Context& ctx, bool with_path);
  std::string url_;
  std::shared_ptr<sdk::tools::TokenSigner> signer_;
};

extern template class RegistryCallSetup<sdk::NseRegistryTypes>;
extern template class RegistryCallSetup<sdk::NsRegistryTypes>;

// [RegistryCallSetup, gRPC registry client]; errors come from the signer or the remote call.
std::shared_ptr<sdk::NseRegistryChain> MakeNseRegistryClient(const RegistryClientOptions& options);
std::shared_ptr<sdk::NsRegistryChain> MakeNsRegistryClient(const RegistryClientOptions& options);

}  // namespace nsmcert::forwarder
