// nsmcert-forwarder: the reference forwarder daemon, configured like upstream's cmd-forwarder-vpp
// (spec §13.5) through NSM_* environment variables; `--help` lists them. The data plane is the
// Linux kernel of the namespace the daemon runs in (veth pairs, VXLAN devices, tc redirects).
//
// On SIGTERM/SIGINT it unregisters and stops serving. Connections' kernel state stays: it belongs
// to the connections, which end by Close or by timeout at their other hops; a restarted forwarder
// takes over a connection's devices (by their names, derived from the connection id) when the
// connection is requested again.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/forwarder_server.h"
#include "reference/forwarder/registration.h"
#include "reference/forwarder/registry_client.h"
#include "reference/forwarder/tunnel.h"
#include "reference/kernel/netlink.h"
#include "reference/sdk/daemon/env_config.h"
#include "reference/sdk/daemon/grpc_daemon.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/labels.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace {

using nsmcert::sdk::daemon::EnvConfig;
using nsmcert::sdk::daemon::GrpcDaemon;
namespace forwarder = nsmcert::forwarder;
namespace tools = nsmcert::sdk::tools;

// The trust domain of identities made up when none is configured (no SPIFFE Workload API yet).
constexpr char kDefaultTrustDomain[] = "nsmcert.local";

struct Config {
  std::string name;
  std::vector<std::string> listen_on;
  std::string connect_to;
  std::string tunnel_ip;
  unsigned vxlan_port = 0;
  std::string labels;
  std::string network_service;
  absl::Duration max_token_lifetime;
  absl::Duration dial_timeout;
  absl::Duration registration_retry;
  absl::Duration expiry_close_timeout;
  std::string log_level;
  std::string spiffe_id;
};

void Declare(EnvConfig& env, Config& c) {
  env.String("NSM_NAME", &c.name, "forwarder",
             "name of this forwarder: its path segment name and its registration name");
  env.List("NSM_LISTEN_ON", &c.listen_on, "unix:///listen.on.socket",
           "URLs to serve on, comma-separated (unix:///abs/path, tcp://host:port); the first is "
           "registered as the forwarder's URL");
  env.String("NSM_CONNECT_TO", &c.connect_to, "unix:///connect.to.socket",
             "URL of the local nsmgr: registry calls (registration, endpoint discovery) go there");
  env.String("NSM_TUNNEL_IP", &c.tunnel_ip, "",
             "this node's tunnel address for VXLAN; empty = the first non-loopback address");
  env.Uint("NSM_VXLAN_PORT", &c.vxlan_port, "0", "VXLAN UDP port; 0 = 4789");
  env.String("NSM_LABELS", &c.labels, "p2p:true",
             "labels of the forwarder's registration (key:value,...), matched by the nsmgr");
  env.String("NSM_NSNAME", &c.network_service, "forwarder",
             "network service the forwarder registers itself under");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &c.max_token_lifetime, "10m",
               "lifetime of the tokens this forwarder signs");
  env.Duration("NSM_DIAL_TIMEOUT", &c.dial_timeout, "750ms",
               "deadline of each registry call through the nsmgr (endpoint discovery)");
  env.Duration("NSM_REGISTRATION_RETRY", &c.registration_retry, "1s",
               "pause before registering again after a failure or a broken watch");
  env.Duration(
      "NSMCERT_EXPIRY_CLOSE_TIMEOUT", &c.expiry_close_timeout, "15s",
      "least time budget of the Close this hop sends on its own when a caller stopped refreshing a "
      "connection (nsmcert addition; the last request's deadline when that is longer)");
  env.String("NSM_LOG_LEVEL", &c.log_level, "INFO",
             "TRACE, DEBUG, INFO, WARN or ERROR (SIGUSR1 switches to TRACE, SIGUSR2 back)");
  env.String("NSM_SPIFFE_ID", &c.spiffe_id, "",
             absl::StrCat("SPIFFE ID the forwarder signs its tokens as (default spiffe://",
                          kDefaultTrustDomain, "/<NSM_NAME>)"));
}

int Fail(const absl::Status& status) {
  std::cerr << "nsmcert-forwarder: " << status << "\n";
  return 2;
}

absl::Status Field(const char* variable, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(variable, ": ", status.message()));
}

absl::StatusOr<std::shared_ptr<tools::TokenSigner>> MakeSigner(const Config& c) {
  std::string id_text = c.spiffe_id.empty()
                            ? absl::StrCat("spiffe://", kDefaultTrustDomain, "/", c.name)
                            : c.spiffe_id;
  auto id = tools::SpiffeId::Parse(id_text);
  if (!id.ok()) return Field(c.spiffe_id.empty() ? "NSM_NAME" : "NSM_SPIFFE_ID", id.status());
  // A fresh key per run: without a Workload API nobody verifies these signatures, but the tokens
  // must be well-formed ES256 JWTs with a SPIFFE subject for upstream peers (spec §2.6).
  auto key = tools::EcKey::Generate();
  if (!key.ok()) return key.status();
  return std::make_shared<tools::Es256TokenSigner>(*id, *key, c.max_token_lifetime);
}

absl::StatusOr<forwarder::TunnelConfig> FindTunnel(const Config& c) {
  std::string ip = c.tunnel_ip;
  if (ip.empty()) ip = nsmcert::sdk::daemon::FirstNonLoopbackAddress();
  if (ip.empty()) {
    return absl::FailedPreconditionError(
        "NSM_TUNNEL_IP: not set, and this namespace has no non-loopback address to use");
  }
  if (c.vxlan_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("NSM_VXLAN_PORT: ", c.vxlan_port, " is not a port"));
  }
  const auto port = static_cast<std::uint16_t>(
      c.vxlan_port == 0 ? nsmcert::api::defaults::kVxlanPort : c.vxlan_port);
  auto nl = nsmcert::kernel::Netlink::OpenCurrent();
  if (!nl.ok()) return nl.status();
  auto tunnel = forwarder::DiscoverTunnel(**nl, ip, port);
  if (!tunnel.ok()) return Field("NSM_TUNNEL_IP", tunnel.status());
  return tunnel;
}

}  // namespace

int main(int argc, char** argv) {
  nsmcert::sdk::daemon::BlockDaemonSignals();

  Config config;
  EnvConfig env("nsmcert-forwarder",
                "The nsmcert reference forwarder: selects endpoints and programs the Linux kernel "
                "(veth, VXLAN, tc cross-connects), configured like upstream cmd-forwarder-vpp.");
  Declare(env, config);
  absl::StatusOr<bool> help = env.HandleArgs(argc, argv);
  if (!help.ok()) return Fail(help.status());
  if (*help) return 0;
  if (absl::Status s = env.Load(); !s.ok()) return Fail(s);
  auto level = nsmcert::sdk::daemon::ParseLogLevel(config.log_level);
  if (!level.ok()) return Fail(Field("NSM_LOG_LEVEL", level.status()));
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSM_MAX_TOKEN_LIFETIME: must be positive"));
  }
  if (config.expiry_close_timeout <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSMCERT_EXPIRY_CLOSE_TIMEOUT: must be positive"));
  }
  auto labels = tools::ParseColonLabels(config.labels);
  if (!labels.ok()) return Fail(Field("NSM_LABELS", labels.status()));
  if (config.listen_on.empty()) return Fail(absl::InvalidArgumentError("NSM_LISTEN_ON: empty"));
  nsmcert::sdk::daemon::InitLogging(config.name, *level);

  auto signer = MakeSigner(config);
  if (!signer.ok()) return Fail(signer.status());
  auto tunnel = FindTunnel(config);
  if (!tunnel.ok()) return Fail(tunnel.status());

  auto channels = std::make_shared<nsmcert::sdk::ChannelPool>();
  forwarder::RegistryClientOptions registry;
  registry.url = config.connect_to;
  registry.signer = *signer;
  registry.channels = channels;

  forwarder::ForwarderOptions options;
  options.name = config.name;
  options.signer = *signer;
  options.tunnel = *tunnel;
  options.ns_registry = forwarder::MakeNsRegistryClient(registry);
  options.nse_registry = forwarder::MakeNseRegistryClient(registry);
  options.registry_call_timeout = config.dial_timeout;
  options.timeout.close_budget = config.expiry_close_timeout;
  options.channels = channels;
  auto server = forwarder::ForwarderServer::Create(std::move(options));
  if (!server.ok()) return Fail(server.status());

  auto daemon = GrpcDaemon::Create(config.listen_on);
  if (!daemon.ok()) return Fail(Field("NSM_LISTEN_ON", daemon.status()));
  (*server)->RegisterServices((*daemon)->builder());
  if (absl::Status s = (*daemon)->Start(); !s.ok()) return Fail(s);
  const std::vector<std::string_view> services = {nsmcert::api::service::kNetworkService,
                                                  nsmcert::api::service::kMonitorConnection};
  (*daemon)->SetServing(services, true);
  NSM_LOG(kInfo) << "serving; tunnel " << tunnel->ip << ":" << tunnel->port << " on "
                 << tunnel->device << " (MTU " << tunnel->underlay_mtu << ", tunnel MTU "
                 << tunnel->tunnel_mtu << ")";

  forwarder::RegistrationOptions reg;
  reg.name = config.name;
  reg.url = (*daemon)->bound_urls().front();
  reg.network_service = config.network_service;
  reg.labels = *labels;
  reg.retry_interval = config.registration_retry;
  reg.call_timeout = std::max(config.dial_timeout, absl::Seconds(1));
  forwarder::Registration registration(reg, forwarder::MakeNseRegistryClient(registry));
  if (absl::Status s = registration.Start(); !s.ok()) {
    NSM_LOG(kWarn) << s << " (retrying in the background)";
  } else {
    NSM_LOG(kInfo) << "registered as " << config.name << " (network service "
                   << config.network_service << ") at " << reg.url;
  }

  int sig = nsmcert::sdk::daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": unregistering and shutting down";
  if (absl::Status s = registration.Stop(); !s.ok()) {
    NSM_LOG(kWarn) << "unregister: " << s;
  }
  (*daemon)->SetServing(services, false);
  (*server)->StopMonitorStreams();
  (*daemon)->Shutdown(absl::Seconds(1));
  NSM_LOG(kInfo) << "stopped (connections' kernel state is left to their Close or timeout)";
  return 0;
}
