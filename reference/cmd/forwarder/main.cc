// nsmcert-forwarder: the reference forwarder daemon, configured like upstream's cmd-forwarder-vpp
// (spec §13.5) through NSM_* environment variables; `--help` lists them. The data plane is the
// Linux kernel of the namespace the daemon runs in (veth pairs, VXLAN devices, tc redirects).
//
// On SIGTERM/SIGINT it unregisters and stops serving. Connections' kernel state stays: it belongs
// to the connections, which end by Close or by timeout at their other hops; a restarted forwarder
// takes over a connection's devices (by their names, derived from the connection id) when the
// connection is requested again.
#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/forwarder_server.h"
#include "reference/forwarder/registration.h"
#include "reference/forwarder/registry_client.h"
#include "reference/forwarder/tunnel.h"
#include "reference/kernel/netlink.h"
#include "reference/sdk/daemon/daemon_main.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"
#include "reference/sdk/tools/labels.h"

namespace {

namespace daemon = nsmcert::sdk::daemon;
namespace forwarder = nsmcert::forwarder;
namespace tools = nsmcert::sdk::tools;

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

void Declare(daemon::EnvConfig& env, Config& c) {
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
  env.String("NSM_LOG_LEVEL", &c.log_level, "INFO", daemon::kLogLevelHelp);
  env.String("NSM_SPIFFE_ID", &c.spiffe_id, "",
             daemon::SpiffeIdHelp("SPIFFE ID the forwarder signs its tokens as"));
}

absl::StatusOr<forwarder::TunnelConfig> FindTunnel(const Config& c) {
  std::string ip = c.tunnel_ip;
  if (ip.empty()) ip = daemon::FirstNonLoopbackAddress();
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
  if (!tunnel.ok()) return daemon::NameVariable("NSM_TUNNEL_IP", tunnel.status());
  return tunnel;
}

}  // namespace

int main(int argc, char** argv) {
  daemon::BlockDaemonSignals();

  Config config;
  daemon::DaemonMain daemon_main(
      "nsmcert-forwarder",
      "The nsmcert reference forwarder: selects endpoints and programs the Linux kernel "
      "(veth, VXLAN, tc cross-connects), configured like upstream cmd-forwarder-vpp.");
  Declare(daemon_main.env(), config);
  if (std::optional<int> exit = daemon_main.Configure(argc, argv)) return *exit;
  auto level = daemon::ParseLogLevelVariable(config.log_level);
  if (!level.ok()) return daemon_main.Fail(level.status());
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return daemon_main.Fail(daemon::InvalidVariable("NSM_MAX_TOKEN_LIFETIME", "must be positive"));
  }
  if (config.expiry_close_timeout <= absl::ZeroDuration()) {
    return daemon_main.Fail(
        daemon::InvalidVariable("NSMCERT_EXPIRY_CLOSE_TIMEOUT", "must be positive"));
  }
  auto labels = tools::ParseColonLabels(config.labels);
  if (!labels.ok()) return daemon_main.Fail(daemon::NameVariable("NSM_LABELS", labels.status()));
  if (config.listen_on.empty()) {
    return daemon_main.Fail(daemon::InvalidVariable("NSM_LISTEN_ON", "empty"));
  }
  daemon::InitLogging(config.name, *level);

  auto signer = daemon::MakeTokenSigner(config.name, config.spiffe_id, config.max_token_lifetime);
  if (!signer.ok()) return daemon_main.Fail(signer.status());
  auto tunnel = FindTunnel(config);
  if (!tunnel.ok()) return daemon_main.Fail(tunnel.status());

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
  if (!server.ok()) return daemon_main.Fail(server.status());

  auto grpc_server = daemon::StartGrpcDaemon(config.listen_on, **server);
  if (!grpc_server.ok()) {
    // Only a malformed URL (INVALID_ARGUMENT, see StartGrpcDaemon) is the variable's fault; a
    // failed bind is not.
    const absl::Status& s = grpc_server.status();
    return daemon_main.Fail(s.code() == absl::StatusCode::kInvalidArgument
                                ? daemon::NameVariable("NSM_LISTEN_ON", s)
                                : s);
  }
  const std::vector<std::string_view> services = {nsmcert::api::service::kNetworkService,
                                                  nsmcert::api::service::kMonitorConnection};
  (*grpc_server)->SetServing(services, true);
  NSM_LOG(kInfo) << "serving; tunnel " << tunnel->ip << ":" << tunnel->port << " on "
                 << tunnel->device << " (MTU " << tunnel->underlay_mtu << ", tunnel MTU "
                 << tunnel->tunnel_mtu << ")";

  forwarder::RegistrationOptions reg;
  reg.name = config.name;
  reg.url = (*grpc_server)->bound_urls().front();
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

  int sig = daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": unregistering and shutting down";
  if (absl::Status s = registration.Stop(); !s.ok()) {
    NSM_LOG(kWarn) << "unregister: " << s;
  }
  daemon::StopServing(**grpc_server, services, [&] { (*server)->StopMonitorStreams(); });
  NSM_LOG(kInfo) << "stopped (connections' kernel state is left to their Close or timeout)";
  return 0;
}
