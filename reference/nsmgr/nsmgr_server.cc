#include "reference/nsmgr/nsmgr_server.h"

#include "absl/strings/str_cat.h"
#include "reference/nsmgr/discover_forwarder.h"
#include "reference/nsmgr/netsvc_monitor.h"
#include "reference/nsmgr/registry_proxy.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/clientinfo.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/monitor_client.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/trimpath.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/network_service_client.h"
#include "reference/sdk/grpc/registry_client.h"
#include "reference/sdk/registry/begin.h"
#include "reference/sdk/registry/clientinfo.h"
#include "reference/sdk/registry/memory.h"
#include "reference/sdk/registry/updatepath.h"
#include "reference/sdk/registry/validate.h"

namespace nsmcert::nsmgr {
namespace {

using sdk::NetworkServiceElement;
template <typename T, typename... Args>
std::shared_ptr<NetworkServiceElement> E(Args&&... args) {
  return std::make_shared<T>(std::forward<Args>(args)...);
}

absl::Status Required(bool present, const char* option) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("nsmgr option ", option, ": required"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NsmgrServer>> NsmgrServer::Create(NsmgrOptions options) {
  for (absl::Status s :
       {Required(!options.name.empty(), "name"), Required(options.signer != nullptr, "signer"),
        Required(options.clock != nullptr, "clock"),
        Required(!options.forwarder_service_name.empty(), "forwarder_service_name"),
        Required(options.env != nullptr, "env")}) {
    if (!s.ok()) return s;
  }
  std::unique_ptr<NsmgrServer> server(new NsmgrServer());
  NsmgrServer& m = *server;
  m.options_ = std::move(options);
  NsmgrOptions& o = m.options_;
  if (o.channels == nullptr) o.channels = std::make_shared<sdk::ChannelPool>();
  m.own_url_ = std::make_shared<OwnUrl>(o.url);
  m.monitor_ = std::make_shared<sdk::ConnectionMonitor>();
  m.local_bypass_ = std::make_shared<LocalBypass>(m.own_url_);
  m.expire_ = std::make_shared<sdk::reg::Expire>(o.nse_expiration);
  m.excluded_prefixes_ =
      std::make_shared<sdk::ExcludedPrefixesServer>(*o.clock, o.excluded_prefixes);
  const bool remote_registry = !o.registry_url.empty();
  RegistryProxyOptions proxy;
  proxy.registry_url = o.registry_url;
  proxy.signer = o.signer;
  proxy.registry_identity = o.registry_identity;

  // --- Registry side ---

  // Where registrations end: the registry (one more hop of the registry path), or memory.
  std::shared_ptr<sdk::NsRegistryElement> ns_store;
  std::shared_ptr<sdk::NseRegistryElement> nse_store;
  if (remote_registry) {
    auto ns = sdk::NsRegistryChain::Make({std::make_shared<NsRegistryProxy>(proxy),
                                          std::make_shared<sdk::NsRegistryGrpcClient>(o.channels)});
    auto nse =
        sdk::NseRegistryChain::Make({std::make_shared<NseRegistryProxy>(proxy),
                                     std::make_shared<sdk::NseRegistryGrpcClient>(o.channels)});
    if (!ns.ok()) return ns.status();
    if (!nse.ok()) return nse.status();
    ns_store = *ns;
    nse_store = *nse;
  } else {
    ns_store = std::make_shared<sdk::reg::NsMemory>();
    nse_store = std::make_shared<sdk::reg::NseMemory>();
  }
  // Endpoints reach the store with this nsmgr's URL; Finds get the local URLs back (spec §8.3).
  // Forwarder discovery uses this part directly, as upstream does.
  auto local_or_remote = sdk::NseRegistryChain::Make({m.local_bypass_, nse_store});
  if (!local_or_remote.ok()) return local_or_remote.status();

  auto nse_registry = sdk::NseRegistryChain::Make({
      // Refuse malformed input before anything reads or keeps it.
      std::make_shared<sdk::reg::NseValidate>(),
      // The registry path and path_ids; expire reads the tokens' expiry from it.
      std::make_shared<sdk::reg::NseUpdatePath>(o.signer),
      // From here on, events of one name run one at a time; an expiry re-enters here.
      std::make_shared<sdk::reg::NseBegin>(),
      std::make_shared<sdk::reg::ClientInfo>(o.env),
      // An endpoint this nsmgr stops hearing from is unregistered upstream after its expiration.
      m.expire_,
      *local_or_remote,
  });
  if (!nse_registry.ok()) return nse_registry.status();
  m.nse_registry_ = *nse_registry;

  auto ns_registry = sdk::NsRegistryChain::Make({
      std::make_shared<sdk::reg::NsValidate>(),
      std::make_shared<sdk::reg::NsUpdatePath>(o.signer),
      ns_store,
  });
  if (!ns_registry.ok()) return ns_registry.status();
  m.ns_registry_ = *ns_registry;

  // --- NetworkService side ---

  DiscoverForwarderOptions discover;
  discover.forwarder_service_name = o.forwarder_service_name;
  discover.registry_call_timeout = o.registry_call_timeout;
  NetsvcMonitorOptions netsvc;
  netsvc.registry_call_timeout = o.registry_call_timeout;

  // Toward the forwarder discover_forwarder chose (it sets ClientUrl). No refresh: the NSC
  // refreshes the whole path (spec §10).
  auto client = sdk::NetworkServiceChain::Make({
      // Finds its own segment at the index and keeps the connection id.
      E<sdk::UpdatePath>(o.name),
      // Both pass through inside the server chain's begin and metadata.
      E<sdk::Begin>(sdk::Begin::Side::kClient),
      E<sdk::ConnectionMetadata>(),
      // Follows the forwarder's monitor: DOWN reaches this nsmgr's monitor when it breaks.
      E<sdk::MonitorClient>(m.monitor_, sdk::GrpcConnectionEventStreamOpener(o.channels)),
      // The token this hop presents to the forwarder, addressed to it when its identity is known.
      E<sdk::UpdateTokenClient>(o.signer),
      // Tells the server-side trimpath that the path beyond this hop is live.
      E<sdk::TrimPathClient>(),
      E<sdk::NetworkServiceGrpcClient>(o.channels),
  });
  if (!client.ok()) return client.status();

  std::vector<std::shared_ptr<NetworkServiceElement>> elements = {
      // Malformed or oversized input is refused before anything acts on it.
      E<sdk::ValidateRequest>(o.limits),
      // The endpoint skeleton (spec §10). updatepath first: begin serialises by the id it fixes.
      E<sdk::UpdatePath>(o.name),
      E<sdk::Begin>(sdk::Begin::Side::kServer),
      // Tokens before authorize, which checks them.
      E<sdk::UpdateTokenServer>(o.signer),
      E<sdk::AuthorizeServer>(o.policies),
      E<sdk::ConnectionMetadata>(),
      // Before monitor, so that a timeout's Close passes monitor and emits DELETE.
      E<sdk::Timeout>(o.timeout),
      E<sdk::MonitorServer>(m.monitor_),
      E<sdk::TrimPathServer>(),
      // Labels first: the forwarder and endpoint matches read them.
      E<sdk::ClientInfo>(o.env),
      // Sets ClientUrl to the chosen forwarder; remembers it in the connection's metadata.
      std::make_shared<DiscoverForwarder>(m.ns_registry_, *local_or_remote, m.own_url_, discover),
  };
  // After discover_forwarder: it watches the endpoint the path reached.
  if (o.netsvc_monitor) {
    elements.push_back(std::make_shared<NetsvcMonitor>(m.ns_registry_, *local_or_remote, netsvc));
  }
  elements.push_back(m.excluded_prefixes_);
  elements.push_back(*client);
  auto chain = sdk::NetworkServiceChain::Make(std::move(elements));
  if (!chain.ok()) return chain.status();
  m.chain_ = *chain;

  m.network_service_ = std::make_unique<sdk::NetworkServiceGrpcServer>(m.chain_, *o.clock);
  m.monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(m.monitor_);
  m.nse_registry_service_ = std::make_unique<sdk::NseRegistryGrpcServer>(m.nse_registry_, *o.clock);
  m.ns_registry_service_ = std::make_unique<sdk::NsRegistryGrpcServer>(m.ns_registry_, *o.clock);
  return server;
}

NsmgrServer::~NsmgrServer() {
  if (monitor_service_ != nullptr) monitor_service_->Stop();
  if (expire_ != nullptr) expire_->StopAll();
}

void NsmgrServer::RegisterServices(grpc::ServerBuilder& builder) {
  builder.RegisterService(network_service_.get());
  builder.RegisterService(monitor_service_.get());
  builder.RegisterService(nse_registry_service_.get());
  builder.RegisterService(ns_registry_service_.get());
}

void NsmgrServer::StopMonitorStreams() { monitor_service_->Stop(); }

}  // namespace nsmcert::nsmgr
