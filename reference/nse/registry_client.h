// The endpoint's registry clients: both registry services, reached through the endpoint's nsmgr
// (NSM_CONNECT_TO), which proxies them to the registry (spec §8.3).
//
// Each call is prepared by sdk::RegistryCallPreparation (reference/sdk/registry/
// call_preparation.h: nsmgr URL, per-RPC token, registry path, redial after a failure).
//
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/registry/call_preparation.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::nse {

struct RegistryClients {
  std::shared_ptr<sdk::NsRegistryChain> ns;
  std::shared_ptr<sdk::NseRegistryChain> nse;
};

// [RegistryCallPreparation, gRPC registry client] for both services toward `nsmgr_url`.
RegistryClients MakeRegistryClients(const std::string& nsmgr_url,
                                    std::shared_ptr<sdk::tools::TokenSigner> signer,
                                    std::shared_ptr<sdk::ChannelPool> channels);

}  // namespace nsmcert::nse
