// The reference registry (like upstream's cmd-registry-memory): both registry services, in
// memory, as two chains of sdk/registry elements, and the gRPC services that serve them.
//
// What a caller observes (spec §8):
// - NSE Register returns the endpoint with expiration_time (min-rule, default 1 minute),
//   initial_registration_time (kept across refreshes) and path_ids; an endpoint not refreshed
//   before its expiration is removed and watchers get `deleted=true`.
// - NS Register defaults an empty payload to `IP`. Network services do not expire.
// - Find streams current matches and ends; with `watch` it then streams every change.
// - The `path` metadata is updated and returned in the response header.
// - Bad input is INVALID_ARGUMENT naming the field; a name registered under one identity is
//   PERMISSION_DENIED for another.
//
// Namespace `nsmcert::registryd`: `registry` would shadow the proto package of that name.
//
// Threading: thread-safe; gRPC calls run concurrently. Lifetime: the clock must outlive the
// server; the server must outlive any grpc::Server its services were registered with.
#pragma once

#include <grpcpp/server_builder.h>

#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/registry_server.h"
#include "reference/sdk/registry/expire.h"
#include "reference/sdk/registry/memory.h"
#include "reference/sdk/registry/validate.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::registryd {

struct RegistryOptions {
  // Signs this registry's own token for each call's path (spec §8.5). Required; its subject is
  // the registry's SPIFFE ID, which lands in path_ids.
  std::shared_ptr<sdk::tools::TokenSigner> token_signer;
  // The lifetime an endpoint gets when nothing shorter applies (NSM_EXPIRE_PERIOD); zero for
  // none.
  absl::Duration default_expiration = sdk::reg::kDefaultNseExpiration;
  // The clock of call contexts and expiry timers.
  sdk::Clock* clock = &sdk::Clock::Real();
  sdk::reg::RegistryLimits limits;
  sdk::reg::MemoryOptions memory;
};

class RegistryServer {
 public:
  // INVALID_ARGUMENT when no token signer is given.
  static absl::StatusOr<std::unique_ptr<RegistryServer>> Create(RegistryOptions options);
  // Cancels pending expiries (they hold the chain).
  ~RegistryServer();

  // The chains, to call in process (tests, benchmarks).
  const std::shared_ptr<sdk::NseRegistryChain>& nse_chain() const { return nse_chain_; }
  const std::shared_ptr<sdk::NsRegistryChain>& ns_chain() const { return ns_chain_; }
  // Direct reads of the stores.
  const sdk::reg::NseMemory& nse_store() const { return *nse_store_; }
  const sdk::reg::NsMemory& ns_store() const { return *ns_store_; }

  // Adds `/registry.NetworkServiceEndpointRegistry` and `/registry.NetworkServiceRegistry`.
  void RegisterServices(grpc::ServerBuilder& builder);

 private:
  RegistryServer() = default;

  std::shared_ptr<sdk::reg::NseMemory> nse_store_;
  std::shared_ptr<sdk::reg::NsMemory> ns_store_;
  std::shared_ptr<sdk::reg::Expire> expire_;
  std::shared_ptr<sdk::NseRegistryChain> nse_chain_;
  std::shared_ptr<sdk::NsRegistryChain> ns_chain_;
  std::unique_ptr<sdk::NseRegistryGrpcServer> nse_service_;
  std::unique_ptr<sdk::NsRegistryGrpcServer> ns_service_;
};

}  // namespace nsmcert::registryd
