// nsmcert-nsmgr: the reference nsmgr daemon, configured like upstream's cmd-nsmgr (spec §13.1)
// through NSM_* environment variables; `--help` lists them.
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsmcert/api/constants.h"
#include "reference/nsmgr/nsmgr_server.h"
#include "reference/sdk/daemon/daemon_main.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace {

namespace daemon = nsmcert::sdk::daemon;

struct Config {
  std::string name;
  std::vector<std::string> listen_on;
  std::string registry_url;
  absl::Duration max_token_lifetime;
  absl::Duration dial_timeout;
  absl::Duration expiry_close_timeout;
  std::string forwarder_service_name;
  std::string excluded_prefixes_path;
  std::string log_level;
  std::string spiffe_id;
  std::string node_name;  // read by clientinfo from the environment; declared for --help
};

void Declare(daemon::EnvConfig& env, Config& config) {
  env.String("NSM_NAME", &config.name, "nmgr",
             "name of this nsmgr: its path segment name (upstream's default, sic)");
  env.List("NSM_LISTEN_ON", &config.listen_on, "unix:///var/lib/networkservicemesh/nsm.io.sock",
           "URLs to serve on, comma-separated: unix:///abs/path and tcp://host:port (port 0 picks "
           "a free port). The first tcp URL, with an empty host replaced by the first "
           "non-loopback address, is the public URL written into the registry; without one, the "
           "first URL");
  env.String("NSM_REGISTRY_URL", &config.registry_url, "tcp://localhost:5001",
             "the registry both registry services are proxied to; set but empty keeps them in "
             "memory in this nsmgr");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &config.max_token_lifetime, "10m",
               "lifetime of the tokens this nsmgr signs");
  env.Duration("NSM_DIAL_TIMEOUT", &config.dial_timeout, "750ms",
               "bound of each registry call made while selecting a forwarder");
  env.Duration(
      "NSMCERT_EXPIRY_CLOSE_TIMEOUT", &config.expiry_close_timeout, "15s",
      "least time budget of the Close this hop sends on its own when a caller stopped refreshing a "
      "connection (nsmcert addition; the last request's deadline when that is longer)");
  env.String("NSM_FORWARDER_NETWORK_SERVICE_NAME", &config.forwarder_service_name, "forwarder",
             "the network service forwarders register for");
  env.String("NSM_EXCLUDED_PREFIXES_PATH", &config.excluded_prefixes_path,
             "/var/lib/networkservicemesh/config/excluded_prefixes.yaml",
             "YAML file `prefixes: [cidr, ...]` whose prefixes every request excludes from IP "
             "allocation; re-read when it changes");
  env.String("NSM_LOG_LEVEL", &config.log_level, "INFO", daemon::kLogLevelHelp);
  env.String("NSM_SPIFFE_ID", &config.spiffe_id, "",
             daemon::SpiffeIdHelp("SPIFFE ID the nsmgr signs its tokens as"));
  env.String("NODE_NAME", &config.node_name, "",
             "added as label nodeName to requests and registrations (likewise POD_NAME → podName, "
             "CLUSTER_NAME → clusterName)");
}

}  // namespace

int main(int argc, char** argv) {
  daemon::BlockDaemonSignals();

  Config config;
  daemon::DaemonMain daemon_main(
      "nsmcert-nsmgr",
      "The nsmcert reference nsmgr: NetworkService and MonitorConnection server that "
      "hands requests to a local forwarder, and proxy of both registry services, "
      "configured like upstream cmd-nsmgr.");
  Declare(daemon_main.env(), config);
  if (std::optional<int> exit = daemon_main.Configure(argc, argv)) return *exit;
  // Upstream keeps an in-memory registry when the URL is set to nothing; the loader reads an empty
  // value as "use the default", so look at the variable itself.
  if (const char* raw = std::getenv("NSM_REGISTRY_URL"); raw != nullptr && *raw == '\0') {
    config.registry_url.clear();
  }
  auto level = daemon::ParseLogLevelVariable(config.log_level);
  if (!level.ok()) return daemon_main.Fail(level.status());
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return daemon_main.Fail(daemon::InvalidVariable("NSM_MAX_TOKEN_LIFETIME", "must be positive"));
  }
  if (config.dial_timeout < absl::ZeroDuration()) {
    return daemon_main.Fail(daemon::InvalidVariable("NSM_DIAL_TIMEOUT", "must not be negative"));
  }
  if (config.expiry_close_timeout <= absl::ZeroDuration()) {
    return daemon_main.Fail(
        daemon::InvalidVariable("NSMCERT_EXPIRY_CLOSE_TIMEOUT", "must be positive"));
  }
  if (!config.registry_url.empty()) {
    if (auto target = nsmcert::sdk::GrpcTarget(config.registry_url); !target.ok()) {
      return daemon_main.Fail(
          daemon::InvalidVariable("NSM_REGISTRY_URL", target.status().message()));
    }
  }
  daemon::InitLogging(config.name, *level);

  // Transport credentials and tokens. Without a SPIFFE Workload API the nsmgr talks plain gRPC and
  // signs with a key made at start-up (daemon_main.h); mTLS would plug in here (channel
  // credentials, SVID key).
  auto signer = daemon::MakeTokenSigner(config.name, config.spiffe_id, config.max_token_lifetime);
  if (!signer.ok()) return daemon_main.Fail(signer.status());
  nsmcert::nsmgr::NsmgrOptions options;
  options.name = config.name;
  options.signer = *signer;
  options.channels = std::make_shared<nsmcert::sdk::ChannelPool>();
  options.registry_url = config.registry_url;
  options.forwarder_service_name = config.forwarder_service_name;
  options.excluded_prefixes.file = config.excluded_prefixes_path;
  options.registry_call_timeout = config.dial_timeout;
  options.timeout.close_budget = config.expiry_close_timeout;
  auto nsmgr = nsmcert::nsmgr::NsmgrServer::Create(std::move(options));
  if (!nsmgr.ok()) return daemon_main.Fail(nsmgr.status());

  auto grpc_server = daemon::StartGrpcDaemon(config.listen_on, **nsmgr);
  if (!grpc_server.ok()) return daemon_main.Fail(grpc_server.status());
  // Known only now: a tcp port 0 is resolved once bound.
  (*nsmgr)->SetUrl((*grpc_server)->PublicUrl());
  const std::vector<std::string_view> services = {
      nsmcert::api::service::kNetworkService, nsmcert::api::service::kMonitorConnection,
      nsmcert::api::service::kNetworkServiceRegistry,
      nsmcert::api::service::kNetworkServiceEndpointRegistry};
  (*grpc_server)->SetServing(services, true);
  NSM_LOG(kInfo) << "serving as " << (*nsmgr)->url() << ", registry "
                 << (config.registry_url.empty() ? std::string("in memory") : config.registry_url);

  int sig = daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": shutting down";
  daemon::StopServing(**grpc_server, services, [&] { (*nsmgr)->StopMonitorStreams(); });
  nsmgr->reset();
  NSM_LOG(kInfo) << "stopped";
  return 0;
}
