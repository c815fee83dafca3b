#include "reference/forwarder/registry_client.h"

#include "reference/sdk/grpc/registry_client.h"
#include "reference/sdk/registry/call_preparation.h"

namespace nsmcert::forwarder {

std::shared_ptr<sdk::NseRegistryChain> MakeNseRegistryClient(const RegistryClientOptions& options) {
  auto chain = sdk::NseRegistryChain::Make(
      {std::make_shared<sdk::RegistryCallPreparation<sdk::NseRegistryTypes>>(
           options.url, options.signer, options.channels),
       std::make_shared<sdk::NseRegistryGrpcClient>(options.channels)});
  return chain.ok() ? *chain : nullptr;
}

std::shared_ptr<sdk::NsRegistryChain> MakeNsRegistryClient(const RegistryClientOptions& options) {
  auto chain = sdk::NsRegistryChain::Make(
      {std::make_shared<sdk::RegistryCallPreparation<sdk::NsRegistryTypes>>(
           options.url, options.signer, options.channels),
       std::make_shared<sdk::NsRegistryGrpcClient>(options.channels)});
  return chain.ok() ? *chain : nullptr;
}

}  // namespace nsmcert::forwarder
