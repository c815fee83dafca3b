// The reference endpoint (like upstream's cmd-nse-icmp-responder): a NetworkService and
// MonitorConnection server that gives every client a point-to-point address pair and accepts the
// KERNEL mechanism into the endpoint's own network namespace. The forwarder creates the
// endpoint's interface there with the dst addresses, so the kernel of that namespace answers the
// client's pings: there is no data path code in the endpoint itself.
//
// The chain, in nse_server.cc, reads top to bottom as one list (spec §10):
//   updatepath → begin → updatetoken → authorize → metadata → timeout → monitor → trimpath →
//   ipam → dnscontext → mechanisms{KERNEL: kernel mechanism}
// The endpoint's registration in the registry is a separate object (registration.h).
//
// Security is pluggable here and nowhere else: `signer` makes this endpoint's path tokens and
// `policies` judge incoming ones.
//
// Lifetime: the clock must outlive the server; close connections (or let them time out) before
// dropping it, and keep it alive while a grpc::Server serves its services.
// Threading: thread-safe; gRPC calls run concurrently.
#pragma once

#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "connectioncontext.pb.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/elements/authorize.h"
#include "reference/sdk/elements/connection_monitor.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/validate_request.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_server.h"
#include "reference/sdk/tools/ipam.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::nse {

struct NseOptions {
  // NSM_NAME: the endpoint's name and path segment name. Required.
  std::string name;
  // Signs this endpoint's path tokens. Required.
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  // Token checks on incoming calls. Without TLS nobody can chain or verify identities, so the
  // default checks that tokens are well-formed and unexpired only.
  sdk::TokenPolicies policies = sdk::TokenPolicies::Insecure();
  // NSM_CIDR_PREFIX and NSM_IPAM_POLICY.
  std::string cidr_prefix = "169.254.0.0/16";
  sdk::tools::IpamPolicy ipam_policy = sdk::tools::IpamPolicy::kPolite;
  // NSM_DNS_CONFIGS; empty leaves the clients' DNS context alone.
  std::vector<connectioncontext::DNSConfig> dns_configs;
  // This endpoint's network namespace as an inode URL (kernel::NetNs::Current()->InodeUrl()),
  // where the forwarder puts the endpoint's interfaces. Required.
  std::string netns_url;
  // NSMCERT_EXPIRY_CLOSE_TIMEOUT: the least time budget of the Close this endpoint starts itself
  // when a caller stopped refreshing a connection.
  sdk::TimeoutOptions timeout;
  // Size limits of incoming requests (validate_request.h).
  sdk::RequestLimits limits;
  // Clock of call contexts and token timeouts.
  sdk::Clock* clock = &sdk::Clock::Real();
};

class NseServer {
 public:
  // INVALID_ARGUMENT naming the option that is missing or malformed.
  static absl::StatusOr<std::unique_ptr<NseServer>> Create(NseOptions options);
  // Ends open monitor streams.
  ~NseServer();
  NseServer(const NseServer&) = delete;
  NseServer& operator=(const NseServer&) = delete;

  // The chain, to call in process.
  const std::shared_ptr<sdk::NetworkServiceChain>& chain() const { return chain_; }
  // This endpoint's connections, as MonitorConnections serves them.
  const std::shared_ptr<sdk::ConnectionMonitor>& monitor() const { return monitor_; }

  // Adds `/networkservice.NetworkService` and `/connection.MonitorConnection`.
  void RegisterServices(grpc::ServerBuilder& builder);
  // Ends open monitor streams; call before grpc::Server::Shutdown(), which waits for them.
  void StopMonitorStreams();

 private:
  NseServer() = default;

  NseOptions options_;
  std::shared_ptr<sdk::ConnectionMonitor> monitor_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> network_service_;
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
};

}  // namespace nsmcert::nse
