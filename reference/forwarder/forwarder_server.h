// The reference forwarder (like upstream's cmd-forwarder-vpp, with the Linux kernel as the data
// plane): its NetworkService chain, its MonitorConnection service, and what they need.
//
// The chain, in forwarder_server.cc, reads top to bottom as one list (spec §10): the endpoint
// skeleton every server starts with, then endpoint selection (discover, round_robin), the mechanism
// handlers of the incoming side (KERNEL, VXLAN), the dataplane element, and the client chain that
// reaches the next hop (a local endpoint over unix://, or the remote nsmgr over tcp://).
//
// Lifetime: the clock, resolver and registry elements must outlive the server. Dropping the server
// abandons the connections it still holds (nothing is closed downstream and their kernel state
// stays, as when the process exits). Threading: thread-safe; gRPC calls run concurrently.
#pragma once

#include <grpcpp/server_builder.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reference/forwarder/dataplane.h"
#include "reference/forwarder/kernel_dataplane.h"
#include "reference/forwarder/tunnel.h"
#include "reference/kernel/netns.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/elements/authorize.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/connection_event_stream.h"
#include "reference/sdk/elements/connection_monitor.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/validate_request.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_server.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::forwarder {

struct ForwarderOptions {
  // NSM_NAME: this hop's path segment name. Required.
  std::string name;
  // Signs this hop's tokens (path segment and per-RPC). Required.
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  // Token checks on incoming calls. Without TLS nobody can chain or verify identities, so the
  // default checks tokens are well-formed and unexpired only.
  sdk::TokenPolicies policies = sdk::TokenPolicies::Insecure();
  // This node's tunnel endpoint (VXLAN). Required: ip, port, device, MTUs.
  TunnelConfig tunnel;
  // Where the forwarder-side devices live, as a NetNsResolver reference; "" = the daemon's own
  // namespace (tests put an in-process forwarder into a test namespace).
  std::string forwarder_netns;
  // Registry clients toward the nsmgr (registry_client.h). Required.
  std::shared_ptr<sdk::NsRegistryElement> ns_registry;
  std::shared_ptr<sdk::NseRegistryElement> nse_registry;
  absl::Duration registry_call_timeout = absl::ZeroDuration();
  // The end of the client chain. Default: the gRPC connect element over `channels`.
  std::shared_ptr<sdk::NetworkServiceElement> connect;
  std::shared_ptr<sdk::ChannelPool> channels;
  // Follows the next hop's MonitorConnections so that DOWN there reaches this forwarder's monitor
  // (spec §7). Default: a gRPC stream over `channels`.
  sdk::ConnectionEventStreamOpener downstream_monitor;
  // Programs the kernel. Default: a KernelDataplane over `resolver`.
  std::shared_ptr<DataplaneApplier> dataplane;
  // Finds the namespaces named by inodeURL parameters; nullptr = a ProcNetNsResolver owned by the
  // server.
  kernel::NetNsResolver* resolver = nullptr;
  // How often the links are listed to notice a local endpoint's namespace is gone
  // (netns_monitor.h); zero switches that off.
  absl::Duration netns_monitor_interval = absl::Seconds(1);
  // NSMCERT_EXPIRY_CLOSE_TIMEOUT: the least time budget of the Close this forwarder starts itself
  // when a caller stopped refreshing a connection.
  sdk::TimeoutOptions timeout;
  // Size limits of incoming requests (validate_request.h).
  sdk::RequestLimits limits;
  // Clock of contexts and timers.
  sdk::Clock* clock = &sdk::Clock::Real();
  // VNI random source (tests).
  std::function<std::uint32_t()> vni_random;
};

class ForwarderServer {
 public:
  // INVALID_ARGUMENT naming the option that is missing.
  static absl::StatusOr<std::unique_ptr<ForwarderServer>> Create(ForwarderOptions options);
  ~ForwarderServer();
  ForwarderServer(const ForwarderServer&) = delete;
  ForwarderServer& operator=(const ForwarderServer&) = delete;

  // The whole server chain, to call in process.
  const std::shared_ptr<sdk::NetworkServiceChain>& chain() const { return chain_; }
  const std::shared_ptr<sdk::ConnectionMonitor>& monitor() const { return monitor_; }
  const Dataplane& dataplane() const { return *dataplane_; }

  // Adds `/networkservice.NetworkService` and `/connection.MonitorConnection`.
  void RegisterServices(grpc::ServerBuilder& builder);
  // Ends open monitor streams; call before grpc::Server::Shutdown().
  void StopMonitorStreams();

 private:
  ForwarderServer() = default;

  ForwarderOptions options_;
  kernel::ProcNetNsResolver default_resolver_;
  std::shared_ptr<sdk::ConnectionMonitor> monitor_;
  std::shared_ptr<Dataplane> dataplane_;
  std::shared_ptr<sdk::Begin> begin_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> network_service_;
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
};

}  // namespace nsmcert::forwarder
