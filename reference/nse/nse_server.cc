#include "reference/nse/nse_server.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/nse/dns_context.h"
#include "reference/nse/ipam.h"
#include "reference/nse/kernel_mechanism.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/mechanisms.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/trimpath.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"

namespace nsmcert::nse {
namespace {

using sdk::NetworkServiceElement;
template <typename T, typename... Args>
std::shared_ptr<NetworkServiceElement> E(Args&&... args) {
  return std::make_shared<T>(std::forward<Args>(args)...);
}

absl::Status Required(bool present, const char* option) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("endpoint option ", option, ": required"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NseServer>> NseServer::Create(NseOptions options) {
  for (absl::Status s :
       {Required(!options.name.empty(), "name"), Required(options.signer != nullptr, "signer"),
        Required(!options.netns_url.empty(), "netns_url"),
        Required(options.clock != nullptr, "clock")}) {
    if (!s.ok()) return s;
  }
  auto ipam = IpamServer::Create(options.cidr_prefix, options.ipam_policy);
  if (!ipam.ok()) return ipam.status();

  std::unique_ptr<NseServer> server(new NseServer());
  NseServer& e = *server;
  e.options_ = std::move(options);
  const NseOptions& o = e.options_;
  e.monitor_ = std::make_shared<sdk::ConnectionMonitor>();

  auto chain = sdk::NetworkServiceChain::Make({
      // Malformed or oversized input is refused before anything acts on it.
      E<sdk::ValidateRequest>(o.limits),
      // The endpoint skeleton (spec §10). updatepath first: begin serialises by the id it fixes.
      E<sdk::UpdatePath>(o.name),
      E<sdk::Begin>(sdk::Begin::Side::kServer),
      // Tokens before authorize, which checks them.
      E<sdk::UpdateTokenServer>(o.signer),
      E<sdk::AuthorizeServer>(o.policies),
      E<sdk::ConnectionMetadata>(),
      // Before monitor, so that a timeout's Close passes monitor and emits DELETE (the forwarder
      // following this monitor then learns the connection is gone).
      E<sdk::Timeout>(o.timeout),
      E<sdk::MonitorServer>(e.monitor_),
      // The endpoint is the last hop: nothing beyond its own segment travels back.
      E<sdk::TrimPathServer>(),
      // Addresses before the mechanism: the forwarder gets both in the same response.
      *ipam,
      E<DnsContextServer>(o.dns_configs),
      // KERNEL only: the forwarder creates the interface in this endpoint's namespace.
      E<sdk::Mechanisms>(std::map<std::string, std::shared_ptr<NetworkServiceElement>>{
          {std::string(api::mechanism::kKernel), E<KernelMechanismServer>(o.netns_url)}}),
  });
  if (!chain.ok()) return chain.status();
  e.chain_ = *chain;

  e.network_service_ = std::make_unique<sdk::NetworkServiceGrpcServer>(e.chain_, *o.clock);
  e.monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(e.monitor_);
  return server;
}

NseServer::~NseServer() {
  if (monitor_service_ != nullptr) monitor_service_->Stop();
}

void NseServer::RegisterServices(grpc::ServerBuilder& builder) {
  builder.RegisterService(network_service_.get());
  builder.RegisterService(monitor_service_.get());
}

void NseServer::StopMonitorStreams() { monitor_service_->Stop(); }

}  // namespace nsmcert::nse
