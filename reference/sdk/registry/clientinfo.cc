#include "reference/sdk/registry/clientinfo.h"

namespace nsmcert::sdk::reg {

ClientInfo::ClientInfo(tools::EnvLookup env) : env_(std::move(env)) {}

absl::StatusOr<registry::NetworkServiceEndpoint> ClientInfo::Register(
    Context& ctx, registry::NetworkServiceEndpoint& nse, const NseRegistryNext& next) {
  for (auto& [service, labels] : *nse.mutable_network_service_labels()) {
    tools::AddClientInfo(*labels.mutable_labels(), env_);
  }
  return next.Register(ctx, nse);
}

}  // namespace nsmcert::sdk::reg
