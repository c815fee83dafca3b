// The reference nsmgr (like upstream's cmd-nsmgr): a NetworkService endpoint that hands every
// request to a local forwarder, a MonitorConnection server, and a proxy of both registry services
// toward the registry at NSM_REGISTRY_URL (or an in-memory registry when there is none).
//
// The three chains, in nsmgr_server.cc, each read top to bottom as one list (spec §10):
//   NetworkService: updatepath → begin → updatetoken → authorize → metadata → timeout → monitor →
//     trimpath → clientinfo → discover_forwarder → netsvc_monitor → excludedprefixes →
//     client(updatepath → begin → metadata → monitor client → updatetoken → trimpath → connect)
//   NSE registry: validate → updatepath → begin → clientinfo → expire → local_bypass →
//     proxy → gRPC client (or the in-memory store)
//   NS registry: validate → updatepath → proxy → gRPC client (or the in-memory store)
//
// Security is pluggable here and nowhere else: `signer` makes every token this nsmgr presents or
// puts into a path, `policies` judge incoming tokens, and `channels` is where outgoing transport
// credentials are chosen (plain gRPC by default; mTLS plugs in there).
//
// Lifetime: the clock must outlive the server; close connections (or let them time out) before
// dropping it, and keep it alive while a grpc::Server serves its services.
// Threading: thread-safe; gRPC calls run concurrently.
#pragma once

#include <grpcpp/server_builder.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reference/nsmgr/local_bypass.h"
#include "reference/nsmgr/own_url.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/elements/authorize.h"
#include "reference/sdk/elements/connection_monitor.h"
#include "reference/sdk/elements/excludedprefixes.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/validate_request.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_server.h"
#include "reference/sdk/grpc/registry_server.h"
#include "reference/sdk/registry/expire.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/labels.h"

namespace nsmcert::nsmgr {

struct NsmgrOptions {
  // NSM_NAME: this hop's path segment name. Required.
  std::string name;
  // Signs this nsmgr's tokens: path segments, per-RPC tokens, registry path. Required.
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  // Token checks on incoming NetworkService calls. Without TLS nobody can chain or verify
  // identities, so the default checks that tokens are well-formed and unexpired only.
  sdk::TokenPolicies policies = sdk::TokenPolicies::Insecure();
  // The public URL written into the registry for local endpoints and forwarders (spec §2.1). May
  // be given later with SetUrl (a daemon learns it once its listeners are bound); until then
  // registrations through this nsmgr are refused.
  std::string url;
  // NSM_REGISTRY_URL; empty keeps both registries in memory.
  std::string registry_url;
  // The registry's SPIFFE ID, when known (the `aud` of the tokens sent to it).
  std::string registry_identity;
  // NSM_FORWARDER_NETWORK_SERVICE_NAME.
  std::string forwarder_service_name = "forwarder";
  // The excluded prefixes file (NSM_EXCLUDED_PREFIXES_PATH) and how often it is polled.
  sdk::ExcludedPrefixesServerOptions excluded_prefixes;
  // Lifetime of an endpoint registration that is not refreshed.
  absl::Duration nse_expiration = sdk::reg::kDefaultNseExpiration;
  // NSM_DIAL_TIMEOUT: the least time of each registry call made while selecting a forwarder (a
  // third of the request's remaining time when longer; see sdk/chain/subcall_deadline.h).
  absl::Duration registry_call_timeout = absl::ZeroDuration();
  // NSMCERT_EXPIRY_CLOSE_TIMEOUT: the least time budget of the Close this nsmgr starts itself when
  // a caller stopped refreshing a connection.
  sdk::TimeoutOptions timeout;
  // Size limits of incoming requests (validate_request.h).
  sdk::RequestLimits limits;
  // Whether connections are closed when their endpoint stops matching its service (spec §9.4).
  bool netsvc_monitor = true;
  // Outgoing connections (forwarders, registry, monitor streams). Default: plain gRPC.
  std::shared_ptr<sdk::ChannelPool> channels;
  // NODE_NAME, POD_NAME, CLUSTER_NAME for the clientinfo labels.
  sdk::tools::EnvLookup env = sdk::tools::ProcessEnv;
  // Clock of call contexts and timers (token timeouts, expiry, file polling).
  sdk::Clock* clock = &sdk::Clock::Real();
};

class NsmgrServer {
 public:
  // INVALID_ARGUMENT naming the option that is missing or malformed.
  static absl::StatusOr<std::unique_ptr<NsmgrServer>> Create(NsmgrOptions options);
  // Ends monitor streams and cancels pending expiries (they hold the chain).
  ~NsmgrServer();
  NsmgrServer(const NsmgrServer&) = delete;
  NsmgrServer& operator=(const NsmgrServer&) = delete;

  // The public URL (see NsmgrOptions::url).
  void SetUrl(std::string url) { own_url_->Set(std::move(url)); }
  std::string url() const { return own_url_->Get(); }

  // The chains, to call in process.
  const std::shared_ptr<sdk::NetworkServiceChain>& chain() const { return chain_; }
  const std::shared_ptr<sdk::NseRegistryChain>& nse_registry() const { return nse_registry_; }
  const std::shared_ptr<sdk::NsRegistryChain>& ns_registry() const { return ns_registry_; }
  // This nsmgr's connections, as MonitorConnections serves them.
  const std::shared_ptr<sdk::ConnectionMonitor>& monitor() const { return monitor_; }
  // The local endpoints' real URLs.
  const LocalBypass& local_bypass() const { return *local_bypass_; }
  // The excluded prefixes in force and the state of their file.
  const sdk::ExcludedPrefixesServer& excluded_prefixes() const { return *excluded_prefixes_; }

  // Adds `/networkservice.NetworkService`, `/connection.MonitorConnection`,
  // `/registry.NetworkServiceEndpointRegistry` and `/registry.NetworkServiceRegistry`.
  void RegisterServices(grpc::ServerBuilder& builder);
  // Ends open monitor streams; call before grpc::Server::Shutdown(), which waits for them.
  void StopMonitorStreams();

 private:
  NsmgrServer() = default;

  NsmgrOptions options_;
  std::shared_ptr<OwnUrl> own_url_;
  std::shared_ptr<sdk::ConnectionMonitor> monitor_;
  std::shared_ptr<LocalBypass> local_bypass_;
  std::shared_ptr<sdk::reg::Expire> expire_;
  std::shared_ptr<sdk::ExcludedPrefixesServer> excluded_prefixes_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::shared_ptr<sdk::NseRegistryChain> nse_registry_;
  std::shared_ptr<sdk::NsRegistryChain> ns_registry_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> network_service_;
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
  std::unique_ptr<sdk::NseRegistryGrpcServer> nse_registry_service_;
  std::unique_ptr<sdk::NsRegistryGrpcServer> ns_registry_service_;
};

}  // namespace nsmcert::nsmgr
