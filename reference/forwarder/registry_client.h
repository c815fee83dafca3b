// The forwarder's registry clients: both registry services reached through its nsmgr
// (NSM_CONNECT_TO), which proxies them to the registry (spec §8.3, §8.4).
//
// Each call is prepared by sdk::RegistryCallPreparation (reference/sdk/registry/
// call_preparation.h): ClientUrl = the nsmgr's URL, the per-RPC token signed by this forwarder,
// the registry `path` for Register/Unregister, a fresh dial after an unreachable nsmgr. Then the
// gRPC registry client sends it.
//
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/registry/call_preparation.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::forwarder {

struct RegistryClientOptions {
  std::string url;  // the nsmgr
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  std::shared_ptr<sdk::ChannelPool> channels;
};

// [sdk::RegistryCallPreparation, gRPC registry client]; errors come from the signer or the remote
// call.
std::shared_ptr<sdk::NseRegistryChain> MakeNseRegistryClient(const RegistryClientOptions& options);
std::shared_ptr<sdk::NsRegistryChain> MakeNsRegistryClient(const RegistryClientOptions& options);

}  // namespace nsmcert::forwarder
