// nsmcert-nsmgr: the reference nsmgr daemon, configured like upstream's cmd-nsmgr (spec §13.1)
// through NSM_* environment variables; `--help` lists them.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/nsmgr/nsmgr_server.h"
#include "reference/sdk/daemon/env_config.h"
#include "reference/sdk/daemon/grpc_daemon.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace {

using nsmcert::sdk::daemon::EnvConfig;
using nsmcert::sdk::daemon::GrpcDaemon;
namespace tools = nsmcert::sdk::tools;

// The trust domain of identities made up when none is configured (no SPIFFE Workload API yet).
constexpr char kDefaultTrustDomain[] = "nsmcert.local";

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

void Declare(EnvConfig& env, Config& config) {
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
  env.String("NSM_LOG_LEVEL", &config.log_level, "INFO",
             "TRACE, DEBUG, INFO, WARN or ERROR (SIGUSR1 switches to TRACE, SIGUSR2 back)");
  env.String("NSM_SPIFFE_ID", &config.spiffe_id, "",
             absl::StrCat("SPIFFE ID the nsmgr signs its tokens as (default spiffe://",
                          kDefaultTrustDomain, "/<NSM_NAME>)"));
  env.String("NODE_NAME", &config.node_name, "",
             "added as label nodeName to requests and registrations (likewise POD_NAME → podName, "
             "CLUSTER_NAME → clusterName)");
}

int Fail(const absl::Status& status) {
  std::cerr << "nsmcert-nsmgr: " << status << "\n";
  return 2;
}

// Transport credentials and tokens, in one place. Without a SPIFFE Workload API the nsmgr talks
// plain gRPC and signs ES256 tokens with a key made at start-up (the insecure profile, spec §2.6):
// peers read them, nobody can verify them. mTLS would plug in here (channel credentials, SVID key).
struct Security {
  std::shared_ptr<tools::TokenSigner> signer;
  std::shared_ptr<nsmcert::sdk::ChannelPool> channels;
};

absl::StatusOr<Security> MakeSecurity(const Config& config) {
  std::string id_text = config.spiffe_id.empty()
                            ? absl::StrCat("spiffe://", kDefaultTrustDomain, "/", config.name)
                            : config.spiffe_id;
  auto id = tools::SpiffeId::Parse(id_text);
  if (!id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.spiffe_id.empty() ? "NSM_NAME" : "NSM_SPIFFE_ID", ": ", id.status().message()));
  }
  auto key = tools::EcKey::Generate();
  if (!key.ok()) return key.status();
  Security security;
  security.signer = std::make_shared<tools::Es256TokenSigner>(*id, *key, config.max_token_lifetime);
  security.channels = std::make_shared<nsmcert::sdk::ChannelPool>();
  return security;
}

}  // namespace

int main(int argc, char** argv) {
  nsmcert::sdk::daemon::BlockDaemonSignals();

  Config config;
  EnvConfig env("nsmcert-nsmgr",
                "The nsmcert reference nsmgr: NetworkService and MonitorConnection server that "
                "hands requests to a local forwarder, and proxy of both registry services, "
                "configured like upstream cmd-nsmgr.");
  Declare(env, config);
  absl::StatusOr<bool> help = env.HandleArgs(argc, argv);
  if (!help.ok()) return Fail(help.status());
  if (*help) return 0;
  if (absl::Status s = env.Load(); !s.ok()) return Fail(s);
  // Upstream keeps an in-memory registry when the URL is set to nothing; the loader reads an empty
  // value as "use the default", so look at the variable itself.
  if (const char* raw = std::getenv("NSM_REGISTRY_URL"); raw != nullptr && *raw == '\0') {
    config.registry_url.clear();
  }
  auto level = nsmcert::sdk::daemon::ParseLogLevel(config.log_level);
  if (!level.ok()) {
    return Fail(
        absl::InvalidArgumentError(absl::StrCat("NSM_LOG_LEVEL: ", level.status().message())));
  }
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSM_MAX_TOKEN_LIFETIME: must be positive"));
  }
  if (config.dial_timeout < absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSM_DIAL_TIMEOUT: must not be negative"));
  }
  if (config.expiry_close_timeout <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSMCERT_EXPIRY_CLOSE_TIMEOUT: must be positive"));
  }
  if (!config.registry_url.empty()) {
    if (auto target = nsmcert::sdk::GrpcTarget(config.registry_url); !target.ok()) {
      return Fail(absl::InvalidArgumentError(
          absl::StrCat("NSM_REGISTRY_URL: ", target.status().message())));
    }
  }
  nsmcert::sdk::daemon::InitLogging(config.name, *level);

  auto security = MakeSecurity(config);
  if (!security.ok()) return Fail(security.status());
  nsmcert::nsmgr::NsmgrOptions options;
  options.name = config.name;
  options.signer = security->signer;
  options.channels = security->channels;
  options.registry_url = config.registry_url;
  options.forwarder_service_name = config.forwarder_service_name;
  options.excluded_prefixes.file = config.excluded_prefixes_path;
  options.registry_call_timeout = config.dial_timeout;
  options.timeout.close_budget = config.expiry_close_timeout;
  auto nsmgr = nsmcert::nsmgr::NsmgrServer::Create(std::move(options));
  if (!nsmgr.ok()) return Fail(nsmgr.status());

  auto daemon = GrpcDaemon::Create(config.listen_on);
  if (!daemon.ok()) return Fail(daemon.status());
  (*nsmgr)->RegisterServices((*daemon)->builder());
  if (absl::Status s = (*daemon)->Start(); !s.ok()) return Fail(s);
  // Known only now: a tcp port 0 is resolved once bound.
  (*nsmgr)->SetUrl((*daemon)->PublicUrl());
  const std::vector<std::string_view> services = {
      nsmcert::api::service::kNetworkService, nsmcert::api::service::kMonitorConnection,
      nsmcert::api::service::kNetworkServiceRegistry,
      nsmcert::api::service::kNetworkServiceEndpointRegistry};
  (*daemon)->SetServing(services, true);
  NSM_LOG(kInfo) << "serving as " << (*nsmgr)->url() << ", registry "
                 << (config.registry_url.empty() ? std::string("in memory") : config.registry_url);

  int sig = nsmcert::sdk::daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": shutting down";
  (*daemon)->SetServing(services, false);
  // Open monitor streams and watches end first; Shutdown waits for every open call.
  (*nsmgr)->StopMonitorStreams();
  (*daemon)->Shutdown(absl::Seconds(1));
  nsmgr->reset();
  NSM_LOG(kInfo) << "stopped";
  return 0;
}
