#include "reference/registry/registry_server.h"

#include "reference/registry/call_log.h"
#include "reference/sdk/registry/authorize.h"
#include "reference/sdk/registry/begin.h"
#include "reference/sdk/registry/set_payload.h"
#include "reference/sdk/registry/set_registration_time.h"
#include "reference/sdk/registry/updatepath.h"

namespace nsmcert::registryd {
namespace {

// The owner of a stored name: the first path id it was registered with.
template <typename Store>
sdk::reg::OwnerLookup OwnerFrom(std::shared_ptr<Store> store) {
  return [store](const std::string& name) -> std::optional<std::string> {
    auto stored = store->Get(name);
    if (!stored.has_value()) return std::nullopt;
    return stored->path_ids().empty() ? std::string() : stored->path_ids(0);
  };
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Create(RegistryOptions options) {
  if (options.token_signer == nullptr) {
    return absl::InvalidArgumentError("registry: a token signer is required");
  }
  if (options.clock == nullptr) return absl::InvalidArgumentError("registry: clock is null");
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  server->nse_store_ = std::make_shared<sdk::reg::NseMemory>(options.memory);
  server->ns_store_ = std::make_shared<sdk::reg::NsMemory>(options.memory);
  server->expire_ = std::make_shared<sdk::reg::Expire>(options.default_expiration);

  namespace reg = sdk::reg;
  auto nse_chain = sdk::NseRegistryChain::Make({
      std::make_shared<CallLog<sdk::NseRegistryTypes>>("nse"),
      // Refuse malformed input before anything reads or keeps it.
      std::make_shared<reg::NseValidate>(options.limits),
      // Path and path_ids first: authorize reads the registrant from the path, expire the tokens'
      // expiry.
      std::make_shared<reg::NseUpdatePath>(options.token_signer),
      std::make_shared<reg::NseAuthorize>(OwnerFrom(server->nse_store_)),
      // From here on, events of one name run one at a time; an expiry re-enters here.
      std::make_shared<reg::NseBegin>(),
      std::make_shared<reg::SetRegistrationTime>(),
      // Sets expiration_time last, so that what the store keeps and returns carries it.
      server->expire_,
      server->nse_store_,
  });
  if (!nse_chain.ok()) return nse_chain.status();
  server->nse_chain_ = *std::move(nse_chain);

  auto ns_chain = sdk::NsRegistryChain::Make({
      std::make_shared<CallLog<sdk::NsRegistryTypes>>("ns"),
      std::make_shared<reg::NsValidate>(options.limits),
      std::make_shared<reg::NsUpdatePath>(options.token_signer),
      std::make_shared<reg::NsAuthorize>(OwnerFrom(server->ns_store_)),
      std::make_shared<reg::NsBegin>(),
      std::make_shared<reg::SetPayload>(),
      server->ns_store_,
  });
  if (!ns_chain.ok()) return ns_chain.status();
  server->ns_chain_ = *std::move(ns_chain);

  server->nse_service_ =
      std::make_unique<sdk::NseRegistryGrpcServer>(server->nse_chain_, *options.clock);
  server->ns_service_ =
      std::make_unique<sdk::NsRegistryGrpcServer>(server->ns_chain_, *options.clock);
  return server;
}

RegistryServer::~RegistryServer() {
  if (expire_) expire_->StopAll();
}

void RegistryServer::RegisterServices(grpc::ServerBuilder& builder) {
  builder.RegisterService(nse_service_.get());
  builder.RegisterService(ns_service_.get());
}

}  // namespace nsmcert::registryd
