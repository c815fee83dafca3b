#include "reference/nse/registry_client.h"

#include "reference/sdk/grpc/registry_client.h"
#include "reference/sdk/registry/call_preparation.h"

namespace nsmcert::nse {

RegistryClients MakeRegistryClients(const std::string& nsmgr_url,
                                    std::shared_ptr<sdk::tools::TokenSigner> signer,
                                    std::shared_ptr<sdk::ChannelPool> channels) {
  RegistryClients clients;
  // Make() fails only on a null element; these are never null.
  clients.ns = *sdk::NsRegistryChain::Make(
      {std::make_shared<sdk::RegistryCallPreparation<sdk::NsRegistryTypes>>(nsmgr_url, signer,
                                                                            channels),
       std::make_shared<sdk::NsRegistryGrpcClient>(channels)});
  clients.nse = *sdk::NseRegistryChain::Make(
      {std::make_shared<sdk::RegistryCallPreparation<sdk::NseRegistryTypes>>(nsmgr_url, signer,
                                                                             channels),
       std::make_shared<sdk::NseRegistryGrpcClient>(channels)});
  return clients;
}

}  // namespace nsmcert::nse
