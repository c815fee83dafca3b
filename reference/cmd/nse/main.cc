// nsmcert-nse: the reference endpoint daemon, an icmp-responder configured like upstream's
// cmd-nse-icmp-responder (spec §13.3) through NSM_* environment variables; `--help` lists them.
//
// It runs inside the network namespace its clients' interfaces go to: the forwarder creates the
// endpoint side of every connection there, with the addresses this endpoint hands out, and the
// kernel answers the clients' pings.
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nsmcert/api/constants.h"
#include "reference/kernel/netns.h"
#include "reference/nse/dns_context.h"
#include "reference/nse/nse_server.h"
#include "reference/nse/registration.h"
#include "reference/nse/registry_client.h"
#include "reference/sdk/daemon/daemon_main.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/labels.h"

namespace {

namespace daemon = nsmcert::sdk::daemon;
namespace tools = nsmcert::sdk::tools;
using daemon::InvalidVariable;

struct Config {
  std::string name;
  std::string base_dir;
  std::string connect_to;
  std::vector<std::string> listen_on;
  absl::Duration max_token_lifetime;
  std::string registry_client_policies;
  std::string ipam_policy;
  std::vector<std::string> service_names;
  std::string payload;
  std::string labels;
  std::string dns_configs;
  std::string cidr_prefix;
  absl::Duration idle_timeout;
  bool register_service = true;
  bool unregister_itself = true;
  std::string pbr_config_path;
  std::string log_level;
  std::string spiffe_id;
  absl::Duration registry_retry;
  absl::Duration expiry_close_timeout;
};

void Declare(daemon::EnvConfig& env, Config& config) {
  env.String("NSM_NAME", &config.name, "icmp-server",
             "the endpoint's name: its registry entry and path segment name");
  env.String("NSM_BASE_DIR", &config.base_dir, "./",
             "accepted for compatibility; the listen socket goes to NSM_LISTEN_ON or a temp dir");
  env.String("NSM_CONNECT_TO", &config.connect_to, "unix:///var/lib/networkservicemesh/nsm.io.sock",
             "the nsmgr this endpoint registers through");
  env.List("NSM_LISTEN_ON", &config.listen_on, "",
           "where to serve (nsmcert addition; unix:///abs/path or tcp://host:port, port 0 picks "
           "one). Empty: unix://<fresh temp dir>/listen.on, as upstream. The first tcp URL, else "
           "the first URL, is registered");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &config.max_token_lifetime, "10m",
               "lifetime of the tokens this endpoint signs");
  env.String("NSM_REGISTRY_CLIENT_POLICIES", &config.registry_client_policies,
             "etc/nsm/opa/common/.*.rego,etc/nsm/opa/registry/.*.rego,etc/nsm/opa/client/.*.rego",
             "accepted for compatibility; there are no client-side registry policies here");
  env.String("NSM_IPAM_POLICY", &config.ipam_policy, "polite",
             "polite (accept the client's addresses) or strict (reset a context with addresses "
             "outside NSM_CIDR_PREFIX)");
  env.List("NSM_SERVICE_NAMES", &config.service_names, "icmp-responder",
           "network services this endpoint offers, comma-separated");
  env.String("NSM_PAYLOAD", &config.payload, "ETHERNET",
             "payload of the network services it registers (ETHERNET or IP)");
  env.String("NSM_LABELS", &config.labels, "",
             "labels of this endpoint for every service it offers, `k1:v1,k2:v2`");
  env.String("NSM_DNS_CONFIGS", &config.dns_configs, "",
             "DNS configuration handed to clients: a JSON array of "
             "{\"dns_server_ips\": [...], \"search_domains\": [...]}");
  env.String("NSM_CIDR_PREFIX", &config.cidr_prefix, "169.254.0.0/16",
             "address pool(s) of the point-to-point IPAM: prefixes, or groups `[a,b],c` (one "
             "allocator per group, e.g. one IPv4 and one IPv6 group for dual stack)");
  env.Duration("NSM_IDLE_TIMEOUT", &config.idle_timeout, "0",
               "exit after this long without connections (0: never)");
  env.Bool("NSM_REGISTER_SERVICE", &config.register_service, "true",
           "register each network service (with NSM_PAYLOAD) before the endpoint");
  env.Bool("NSM_UNREGISTER_ITSELF", &config.unregister_itself, "true",
           "unregister the endpoint when stopping (upstream's default is false, leaving the entry "
           "to expire; the reference cleans up after itself)");
  env.String("NSM_PBR_CONFIG_PATH", &config.pbr_config_path,
             "/etc/policy-based-routing/config.yaml",
             "accepted for compatibility; policy routes are not handed out");
  env.String("NSM_LOG_LEVEL", &config.log_level, "INFO", daemon::kLogLevelHelp);
  env.String("NSM_SPIFFE_ID", &config.spiffe_id, "",
             daemon::SpiffeIdHelp("SPIFFE ID the endpoint signs its tokens as"));
  env.Duration("NSMCERT_REGISTRY_RETRY_INTERVAL", &config.registry_retry, "500ms",
               "between attempts to register (again) when the nsmgr cannot be reached");
  env.Duration(
      "NSMCERT_EXPIRY_CLOSE_TIMEOUT", &config.expiry_close_timeout, "15s",
      "least time budget of the Close this hop sends on its own when a caller stopped refreshing a "
      "connection (nsmcert addition; the last request's deadline when that is longer)");
}

// Everything the configuration must get right before anything starts.
struct Parsed {
  daemon::LogLevel log_level;
  tools::IpamPolicy ipam_policy = tools::IpamPolicy::kPolite;
  std::map<std::string, std::string> labels;
  std::vector<connectioncontext::DNSConfig> dns_configs;
};

absl::StatusOr<Parsed> Parse(const Config& config) {
  Parsed parsed;
  auto level = daemon::ParseLogLevelVariable(config.log_level);
  if (!level.ok()) return level.status();
  parsed.log_level = *level;
  if (config.ipam_policy == "strict") {
    parsed.ipam_policy = tools::IpamPolicy::kStrict;
  } else if (config.ipam_policy != "polite") {
    return InvalidVariable("NSM_IPAM_POLICY", absl::StrCat("\"", config.ipam_policy,
                                                           "\" is neither polite nor strict"));
  }
  auto labels = tools::ParseColonLabels(config.labels);
  if (!labels.ok()) return InvalidVariable("NSM_LABELS", labels.status().message());
  parsed.labels = *labels;
  auto dns = nsmcert::nse::ParseDnsConfigs(config.dns_configs);
  if (!dns.ok()) return InvalidVariable("NSM_DNS_CONFIGS", dns.status().message());
  parsed.dns_configs = *dns;
  if (config.service_names.empty()) {
    return InvalidVariable("NSM_SERVICE_NAMES", "no network service");
  }
  if (config.payload.empty()) return InvalidVariable("NSM_PAYLOAD", "empty");
  if (auto target = nsmcert::sdk::GrpcTarget(config.connect_to); !target.ok()) {
    return InvalidVariable("NSM_CONNECT_TO", target.status().message());
  }
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return InvalidVariable("NSM_MAX_TOKEN_LIFETIME", "must be positive");
  }
  if (config.idle_timeout < absl::ZeroDuration()) {
    return InvalidVariable("NSM_IDLE_TIMEOUT", "must not be negative");
  }
  if (config.registry_retry <= absl::ZeroDuration()) {
    return InvalidVariable("NSMCERT_REGISTRY_RETRY_INTERVAL", "must be positive");
  }
  if (config.expiry_close_timeout <= absl::ZeroDuration()) {
    return InvalidVariable("NSMCERT_EXPIRY_CLOSE_TIMEOUT", "must be positive");
  }
  return parsed;
}

// A fresh directory for the listen socket, as upstream does; removed on exit.
absl::StatusOr<std::string> MakeSocketDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nsmcert-nse-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        absl::StrCat("creating a directory for the listen socket: ", std::strerror(errno)));
  }
  return pattern;
}

}  // namespace

int main(int argc, char** argv) {
  daemon::BlockDaemonSignals();

  Config config;
  daemon::DaemonMain daemon_main(
      "nsmcert-nse",
      "The nsmcert reference endpoint: an icmp-responder that registers its network "
      "services through the nsmgr, hands every client a point-to-point address pair "
      "and takes the KERNEL mechanism into its own network namespace, configured like "
      "upstream cmd-nse-icmp-responder.");
  Declare(daemon_main.env(), config);
  if (std::optional<int> exit = daemon_main.Configure(argc, argv)) return *exit;
  auto parsed = Parse(config);
  if (!parsed.ok()) return daemon_main.Fail(parsed.status());
  daemon::InitLogging(config.name, parsed->log_level);
  if (std::filesystem::exists(config.pbr_config_path)) {
    NSM_LOG(kWarn) << "NSM_PBR_CONFIG_PATH " << config.pbr_config_path
                   << " exists, but policy routes are not supported; ignoring it";
  }

  auto netns = nsmcert::kernel::NetNs::Current();
  if (!netns.ok()) return daemon_main.Fail(netns.status());
  auto signer = daemon::MakeTokenSigner(config.name, config.spiffe_id, config.max_token_lifetime);
  if (!signer.ok()) return daemon_main.Fail(signer.status());

  nsmcert::nse::NseOptions options;
  options.name = config.name;
  options.signer = *signer;
  options.cidr_prefix = config.cidr_prefix;
  options.ipam_policy = parsed->ipam_policy;
  options.dns_configs = parsed->dns_configs;
  options.netns_url = netns->InodeUrl();
  options.timeout.close_budget = config.expiry_close_timeout;
  auto nse = nsmcert::nse::NseServer::Create(std::move(options));
  if (!nse.ok()) {
    return daemon_main.Fail(InvalidVariable("NSM_CIDR_PREFIX or NSM_NAME", nse.status().message()));
  }

  std::string socket_dir;
  std::vector<std::string> listen_on = config.listen_on;
  if (listen_on.empty()) {
    auto dir = MakeSocketDir();
    if (!dir.ok()) return daemon_main.Fail(dir.status());
    socket_dir = *dir;
    listen_on.push_back(absl::StrCat("unix://", socket_dir, "/listen.on"));
  }
  auto grpc_server = daemon::StartGrpcDaemon(listen_on, **nse);
  if (!grpc_server.ok()) return daemon_main.Fail(grpc_server.status());
  const std::vector<std::string_view> services = {nsmcert::api::service::kNetworkService,
                                                  nsmcert::api::service::kMonitorConnection};
  (*grpc_server)->SetServing(services, true);
  const std::string url = (*grpc_server)->PublicUrl();
  NSM_LOG(kInfo) << "serving " << absl::StrJoin(config.service_names, ",") << " at " << url
                 << " in network namespace " << netns->InodeUrl() << ", addresses from "
                 << config.cidr_prefix;

  auto channels = std::make_shared<nsmcert::sdk::ChannelPool>();
  nsmcert::nse::RegistryClients registry =
      nsmcert::nse::MakeRegistryClients(config.connect_to, *signer, channels);
  nsmcert::nse::RegistrationOptions registration_options;
  registration_options.name = config.name;
  registration_options.url = url;
  registration_options.services = config.service_names;
  registration_options.payload = config.payload;
  registration_options.labels = parsed->labels;
  registration_options.register_services = config.register_service;
  registration_options.unregister_on_stop = config.unregister_itself;
  registration_options.retry_interval = config.registry_retry;
  nsmcert::nse::Registration registration(std::move(registration_options), registry.ns,
                                          registry.nse);
  if (absl::Status s = registration.Start(); !s.ok()) {
    // Not fatal: the nsmgr may come up later; registration keeps trying in the background.
    NSM_LOG(kWarn) << "first registration through " << config.connect_to << " failed (" << s
                   << "); retrying every " << config.registry_retry;
  } else {
    NSM_LOG(kInfo) << "registered through " << config.connect_to;
  }

  // NSM_IDLE_TIMEOUT: stop (as if terminated) once no connection was held for that long.
  std::atomic<bool> stopping{false};
  std::thread idle;
  if (config.idle_timeout > absl::ZeroDuration()) {
    idle = std::thread([&] {
      absl::Time last_busy = absl::Now();
      while (!stopping) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        if (!(*nse)->monitor()->Connections().empty()) last_busy = absl::Now();
        if (absl::Now() - last_busy >= config.idle_timeout) {
          NSM_LOG(kInfo) << "idle for " << config.idle_timeout << ": stopping";
          kill(getpid(), SIGTERM);
          return;
        }
      }
    });
  }

  int sig = daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": shutting down";
  stopping = true;
  if (idle.joinable()) idle.join();
  if (absl::Status s = registration.Stop(); !s.ok()) {
    NSM_LOG(kWarn) << s;
  } else if (config.unregister_itself) {
    NSM_LOG(kInfo) << "unregistered " << config.name;
  }
  daemon::StopServing(**grpc_server, services, [&] { (*nse)->StopMonitorStreams(); });
  if (!socket_dir.empty()) {
    std::error_code ignored;
    std::filesystem::remove_all(socket_dir, ignored);
  }
  NSM_LOG(kInfo) << "stopped";
  return 0;
}
