// nsmcert-nsc: the reference client, configured like upstream's cmd-nsc (spec §13.4) through
// NSM_* environment variables; `--help` lists them.
//
// Long-running (default): requests every network service of NSM_NETWORK_SERVICES from the nsmgr
// (retrying until it works), keeps the connections refreshed and heals them, and closes them all
// on SIGTERM/SIGINT. It runs inside the network namespace its interfaces go to.
//
// One-shot (`--oneshot` or NSMCERT_NSC_ONESHOT=true): requests each service once (retrying for at
// most NSM_REQUEST_TIMEOUT), prints the connections as a JSON array on stdout and exits 0; with
// `--close` it closes them before exiting. Exit status 1 when a request failed (the error on
// stderr), 2 for bad configuration.
#include <atomic>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "reference/kernel/netns.h"
#include "reference/nsc/client.h"
#include "reference/nsc/liveness.h"
#include "reference/nsc/requests.h"
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
  std::string connect_to;
  absl::Duration dial_timeout;
  absl::Duration request_timeout;
  absl::Duration max_token_lifetime;
  std::string labels;
  std::string mechanism;
  std::vector<std::string> network_services;
  std::string awareness_groups;
  std::string log_level;
  bool local_dns_enabled = true;
  std::string local_dns_address;
  bool liveness_enabled = true;
  absl::Duration liveness_interval;
  absl::Duration liveness_timeout;
  std::string spiffe_id;
  bool oneshot = false;
};

void Declare(daemon::EnvConfig& env, Config& config) {
  env.String("NSM_NAME", &config.name, "nsc",
             "name of this client: its path segment name; connection ids are <name>-<i>");
  env.String("NSM_CONNECT_TO", &config.connect_to, "unix:///var/lib/networkservicemesh/nsm.io.sock",
             "the nsmgr");
  env.Duration("NSM_DIAL_TIMEOUT", &config.dial_timeout, "5s",
               "bound of each Close when connections are closed");
  env.Duration("NSM_REQUEST_TIMEOUT", &config.request_timeout, "15s",
               "bound of each request attempt (and, one-shot, of all attempts for a service)");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &config.max_token_lifetime, "10m",
               "lifetime of the tokens this client signs; refreshes come at ~0.2 of it");
  env.String("NSM_LABELS", &config.labels, "",
             "labels for every request, `key1=val1,key2=val2`; an NSURL's own labels win");
  env.String("NSM_MECHANISM", &config.mechanism, "kernel",
             "accepted for compatibility; each NSURL's scheme is the mechanism asked for");
  env.List("NSM_NETWORK_SERVICES", &config.network_services, "",
           "required: NSURLs `kernel://<network service>[/<interface name>][?label=value&...]`, "
           "comma-separated");
  env.String("NSM_AWARENESS_GROUPS", &config.awareness_groups, "",
             "accepted for compatibility; awareness groups are not supported");
  env.String("NSM_LOG_LEVEL", &config.log_level, "INFO", daemon::kLogLevelHelp);
  env.Bool("NSM_LOCAL_DNS_SERVER_ENABLED", &config.local_dns_enabled, "true",
           "accepted for compatibility; no local DNS proxy runs");
  env.String("NSM_LOCAL_DNS_SERVER_ADDRESS", &config.local_dns_address, "127.0.0.1:53",
             "accepted for compatibility");
  env.Bool("NSM_LIVENESS_CHECK_ENABLED", &config.liveness_enabled, "true",
           "check the data path by ICMP from every source to every destination address: every "
           "NSM_LIVENESS_CHECK_INTERVAL (a failure reselects) and after a control-plane break "
           "(alive: re-request the same path; dead: reselect)");
  env.Duration("NSM_LIVENESS_CHECK_INTERVAL", &config.liveness_interval, "200ms",
               "between data-path checks");
  env.Duration("NSM_LIVENESS_CHECK_TIMEOUT", &config.liveness_timeout, "1s",
               "how long a check waits for replies (4 echo requests spread over it)");
  env.String("NSM_SPIFFE_ID", &config.spiffe_id, "",
             daemon::SpiffeIdHelp("SPIFFE ID the client signs its tokens as"));
  env.Bool("NSMCERT_NSC_ONESHOT", &config.oneshot, "false",
           "one-shot mode, as --oneshot: request, print the connections as JSON, exit");
}

}  // namespace

int main(int argc, char** argv) {
  daemon::BlockDaemonSignals();

  Config config;
  daemon::DaemonMain daemon_main(
      "nsmcert-nsc",
      "The nsmcert reference client: requests network services from the nsmgr for "
      "kernel interfaces in its own network namespace, refreshes and heals them, "
      "configured like upstream cmd-nsc. Flags: --oneshot (request, print the "
      "connections as a JSON array, exit), --close (with --oneshot: close them first).");
  Declare(daemon_main.env(), config);
  // The mode flags are ours; everything else goes to the shared handling (--help).
  bool oneshot_flag = false;
  bool close_flag = false;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--oneshot") {
      oneshot_flag = true;
    } else if (arg == "--close") {
      close_flag = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (std::optional<int> exit = daemon_main.Configure(static_cast<int>(rest.size()), rest.data())) {
    return *exit;
  }
  const bool oneshot = oneshot_flag || config.oneshot;
  if (close_flag && !oneshot) {
    return daemon_main.Fail(absl::InvalidArgumentError("--close needs --oneshot"));
  }

  auto level = daemon::ParseLogLevelVariable(config.log_level);
  if (!level.ok()) return daemon_main.Fail(level.status());
  auto labels = tools::ParseEqualsLabels(config.labels);
  if (!labels.ok()) {
    return daemon_main.Fail(InvalidVariable("NSM_LABELS", labels.status().message()));
  }
  auto requests = nsmcert::nsc::BuildRequests(config.name, config.network_services, *labels);
  if (!requests.ok()) {
    return daemon_main.Fail(InvalidVariable("NSM_NETWORK_SERVICES", requests.status().message()));
  }
  if (config.request_timeout <= absl::ZeroDuration()) {
    return daemon_main.Fail(InvalidVariable("NSM_REQUEST_TIMEOUT", "must be positive"));
  }
  if (config.dial_timeout <= absl::ZeroDuration()) {
    return daemon_main.Fail(InvalidVariable("NSM_DIAL_TIMEOUT", "must be positive"));
  }
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return daemon_main.Fail(InvalidVariable("NSM_MAX_TOKEN_LIFETIME", "must be positive"));
  }
  if (config.liveness_enabled && (config.liveness_interval <= absl::ZeroDuration() ||
                                  config.liveness_timeout <= absl::ZeroDuration())) {
    return daemon_main.Fail(
        InvalidVariable("NSM_LIVENESS_CHECK_INTERVAL/TIMEOUT", "must be positive"));
  }
  daemon::InitLogging(config.name, *level);
  if (!config.awareness_groups.empty()) {
    NSM_LOG(kWarn) << "NSM_AWARENESS_GROUPS is not supported; ignoring it";
  }

  auto netns = nsmcert::kernel::NetNs::Current();
  if (!netns.ok()) return daemon_main.Fail(netns.status());
  auto signer = daemon::MakeTokenSigner(config.name, config.spiffe_id, config.max_token_lifetime);
  if (!signer.ok()) return daemon_main.Fail(signer.status());

  nsmcert::nsc::NscOptions options;
  options.name = config.name;
  options.connect_to = config.connect_to;
  options.signer = *signer;
  options.netns_url = netns->InodeUrl();
  options.heal = !oneshot;
  if (config.liveness_enabled && !oneshot) {
    nsmcert::nsc::LivenessOptions liveness;
    liveness.timeout = config.liveness_timeout;
    options.liveness = [liveness](const connection::Connection& conn) {
      return nsmcert::nsc::CheckLiveness(conn, liveness);
    };
    options.liveness_interval = config.liveness_interval;
  }
  options.channels = std::make_shared<nsmcert::sdk::ChannelPool>();
  auto client = nsmcert::nsc::NscClient::Create(std::move(options));
  if (!client.ok()) {
    return daemon_main.Fail(
        InvalidVariable("NSM_CONNECT_TO or NSM_NAME", client.status().message()));
  }

  // SIGTERM/SIGINT end whatever runs: retries stop, connections get closed.
  auto lifetime = std::make_shared<nsmcert::sdk::Context>();
  std::thread([lifetime] {
    int sig = daemon::WaitForTermination();
    NSM_LOG(kInfo) << "signal " << sig << ": closing connections";
    lifetime->Cancel();
  }).detach();

  // Logs the first failure of a service and then every 25th, so a long wait does not flood.
  auto failure_logger = [](const networkservice::NetworkServiceRequest& request) {
    return [&request, count = 0](const absl::Status& status) mutable {
      if (count++ % 25 == 0) {
        NSM_LOG(kWarn) << "request " << request.connection().id() << " for "
                       << request.connection().network_service() << " failed (attempt " << count
                       << "): " << status;
      }
    };
  };

  if (oneshot) {
    std::vector<connection::Connection> connections;
    for (const auto& request : *requests) {
      auto conn =
          (*client)->RequestUntilConnected(request, config.request_timeout, config.request_timeout,
                                           *lifetime, failure_logger(request));
      if (!conn.ok()) {
        std::cerr << "nsmcert-nsc: request " << request.connection().id() << " for "
                  << request.connection().network_service() << ": " << conn.status() << "\n";
        (void)(*client)->CloseAll(config.dial_timeout);
        return 1;
      }
      connections.push_back(*conn);
    }
    std::cout << nsmcert::nsc::ConnectionsJson(connections) << std::endl;
    if (close_flag) {
      if (absl::Status s = (*client)->CloseAll(config.dial_timeout); !s.ok()) {
        std::cerr << "nsmcert-nsc: closing: " << s << "\n";
        return 1;
      }
    }
    return 0;
  }

  std::thread connector([&] {
    for (const auto& request : *requests) {
      auto conn = (*client)->RequestUntilConnected(request, config.request_timeout,
                                                   absl::InfiniteDuration(), *lifetime,
                                                   failure_logger(request));
      if (!conn.ok()) return;  // cancelled
    }
    NSM_LOG(kInfo) << "all " << requests->size() << " connection(s) established";
  });
  while (!lifetime->WaitCancelled(absl::Hours(1))) {
  }
  connector.join();
  if (absl::Status s = (*client)->CloseAll(config.dial_timeout); !s.ok()) {
    NSM_LOG(kWarn) << "closing: " << s;
  }
  NSM_LOG(kInfo) << "stopped";
  return 0;
}
