#include "reference/forwarder/forwarder_server.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/client_mechanisms.h"
#include "reference/forwarder/discover.h"
#include "reference/forwarder/kernel_server.h"
#include "reference/forwarder/mechanism_translation.h"
#include "reference/forwarder/netns_monitor.h"
#include "reference/forwarder/round_robin.h"
#include "reference/forwarder/vxlan_server.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/filtermechanisms.h"
#include "reference/sdk/elements/mechanisms.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/monitor_client.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/trimpath.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/network_service_client.h"

namespace nsmcert::forwarder {
namespace {

using sdk::NetworkServiceElement;
template <typename T, typename... Args>
std::shared_ptr<NetworkServiceElement> E(Args&&... args) {
  return std::make_shared<T>(std::forward<Args>(args)...);
}

absl::Status Required(bool present, const char* option) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("forwarder option ", option, ": required"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<ForwarderServer>> ForwarderServer::Create(ForwarderOptions options) {
  for (absl::Status s :
       {Required(!options.name.empty(), "name"), Required(options.signer != nullptr, "signer"),
        Required(!options.tunnel.ip.empty(), "tunnel.ip"),
        Required(options.ns_registry != nullptr, "ns_registry"),
        Required(options.nse_registry != nullptr, "nse_registry"),
        Required(options.clock != nullptr, "clock")}) {
    if (!s.ok()) return s;
  }
  std::unique_ptr<ForwarderServer> server(new ForwarderServer());
  ForwarderServer& f = *server;
  f.options_ = std::move(options);
  ForwarderOptions& o = f.options_;
  if (o.resolver == nullptr) o.resolver = &f.default_resolver_;
  if (o.channels == nullptr) o.channels = std::make_shared<sdk::ChannelPool>();
  if (o.connect == nullptr) o.connect = std::make_shared<sdk::NetworkServiceGrpcClient>(o.channels);
  if (!o.downstream_monitor)
    o.downstream_monitor = sdk::GrpcConnectionEventStreamOpener(o.channels);
  if (o.dataplane == nullptr) o.dataplane = std::make_shared<KernelDataplane>(o.resolver);
  f.monitor_ = std::make_shared<sdk::ConnectionMonitor>();

  DataplaneOptions dataplane;
  dataplane.forwarder_netns = o.forwarder_netns;
  dataplane.tunnel = o.tunnel;
  f.dataplane_ = std::make_shared<Dataplane>(o.dataplane, dataplane);

  VxlanServerOptions vxlan;
  vxlan.tunnel_ip = o.tunnel.ip;
  vxlan.port = o.tunnel.port;
  vxlan.tunnel_mtu = o.tunnel.tunnel_mtu;
  vxlan.random = o.vni_random;
  ClientMechanismsOptions offered;
  offered.tunnel_ip = o.tunnel.ip;
  offered.port = o.tunnel.port;
  offered.tunnel_mtu = o.tunnel.tunnel_mtu;
  NetNsMonitorOptions netns_monitor;
  netns_monitor.interval = o.netns_monitor_interval;
  netns_monitor.forwarder_netns = o.forwarder_netns;
  netns_monitor.resolver = o.resolver;
  std::shared_ptr<NetworkServiceElement> endpoint_watch =
      o.netns_monitor_interval > absl::ZeroDuration()
          ? std::make_shared<NetNsMonitor>(*o.clock, netns_monitor)
          : std::make_shared<NetworkServiceElement>();
  DiscoverOptions discover;
  discover.registry_call_timeout = o.registry_call_timeout;

  // Toward the next hop. The forwarder's own client runs without refresh: the NSC refreshes the
  // whole path (spec §10).
  auto client = sdk::NetworkServiceChain::Make({
      // The next hop must not see the caller's mechanism, and the caller not the next hop's.
      E<MechanismTranslation>(),
      E<ClientMechanisms>(offered),
      // After the offers and after discover/round_robin chose the URL: LOCAL toward unix://,
      // REMOTE toward tcp://.
      E<sdk::FilterMechanisms>(),
      // Finds its own segment at the index and keeps the connection id.
      E<sdk::UpdatePath>(o.name),
      E<sdk::Begin>(sdk::Begin::Side::kClient),
      E<sdk::ConnectionMetadata>(),
      // Follows the next hop's monitor: DOWN there reaches this forwarder's monitor.
      E<sdk::MonitorClient>(f.monitor_, o.downstream_monitor),
      E<sdk::UpdateTokenClient>(o.signer),
      // Tells the server-side trimpath that the path beyond this hop is live.
      E<sdk::TrimPathClient>(),
      o.connect,
  });
  if (!client.ok()) return client.status();

  f.begin_ = std::make_shared<sdk::Begin>(sdk::Begin::Side::kServer);
  auto chain = sdk::NetworkServiceChain::Make({
      // Malformed or oversized input is refused before anything acts on it.
      E<sdk::ValidateRequest>(o.limits),
      // The endpoint skeleton (spec §10). updatepath first: begin serialises by the id it fixes.
      E<sdk::UpdatePath>(o.name),
      f.begin_,
      // Tokens before authorize, which checks them.
      E<sdk::UpdateTokenServer>(o.signer),
      E<sdk::AuthorizeServer>(o.policies),
      E<sdk::ConnectionMetadata>(),
      // Before monitor, so that a timeout's Close passes monitor and emits DELETE.
      E<sdk::Timeout>(o.timeout),
      E<sdk::MonitorServer>(f.monitor_),
      E<sdk::TrimPathServer>(),
      // Endpoint selection (spec §9.1): sets ClientUrl and network_service_endpoint_name.
      std::make_shared<Discover>(o.ns_registry, o.nse_registry, discover),
      E<RoundRobin>(),
      // The incoming side: validates and fills the caller's mechanism before anything is built.
      E<sdk::Mechanisms>(std::map<std::string, std::shared_ptr<NetworkServiceElement>>{
          {std::string(api::mechanism::kKernel), E<KernelServer>(o.resolver)},
          {std::string(api::mechanism::kVxlan), E<VxlanServer>(vxlan)},
      }),
      // Closes the connection when the local endpoint's namespace (and with it our device) is
      // gone; before dataplane, so it starts watching only what dataplane built.
      endpoint_watch,
      // Programs the kernel once the next hop answered (it needs the endpoint's namespace and IP
      // context), and undoes everything downstream if it cannot.
      f.dataplane_,
      *client,
  });
  if (!chain.ok()) return chain.status();
  f.chain_ = *chain;
  f.network_service_ = std::make_unique<sdk::NetworkServiceGrpcServer>(f.chain_, *o.clock);
  f.monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(f.monitor_);
  return server;
}

ForwarderServer::~ForwarderServer() {
  if (monitor_service_ != nullptr) monitor_service_->Stop();
  // Established connections keep the chain alive through begin; let them go (their kernel state
  // stays, as when the process exits).
  if (begin_ != nullptr) begin_->Abandon();
}

void ForwarderServer::RegisterServices(grpc::ServerBuilder& builder) {
  builder.RegisterService(network_service_.get());
  builder.RegisterService(monitor_service_.get());
}

void ForwarderServer::StopMonitorStreams() { monitor_service_->Stop(); }

}  // namespace nsmcert::forwarder
