// nsmcert-registry: the reference registry daemon, configured like upstream's cmd-registry-memory
// (spec §13.2) through NSM_* environment variables; `--help` lists them.
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nsmcert/api/constants.h"
#include "reference/registry/registry_server.h"
#include "reference/sdk/daemon/daemon_main.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"

namespace {

namespace daemon = nsmcert::sdk::daemon;

struct Config {
  std::vector<std::string> listen_on;
  absl::Duration expire_period;
  absl::Duration max_token_lifetime;
  std::string log_level;
  std::string name;
  std::string spiffe_id;
};

void Declare(daemon::EnvConfig& env, Config& config) {
  env.List("NSM_LISTEN_ON", &config.listen_on, "unix:///listen.on.socket",
           "URLs to serve on, comma-separated: unix:///abs/path and tcp://host:port "
           "(port 0 picks a free port; the bound URLs are printed as `listening on <url>`)");
  env.Duration("NSM_EXPIRE_PERIOD", &config.expire_period, "1m",
               "lifetime of an endpoint registration that is not refreshed (upstream declares the "
               "variable as a check period and hard-codes 1m; expiry here is timer-driven)");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &config.max_token_lifetime, "10m",
               "lifetime of the registry's own path tokens; also bounds expiration_time");
  env.String("NSM_LOG_LEVEL", &config.log_level, "INFO", daemon::kLogLevelHelp);
  env.String("NSM_NAME", &config.name, "registry", "name of this registry in logs and identity");
  env.String("NSM_SPIFFE_ID", &config.spiffe_id, "",
             daemon::SpiffeIdHelp("SPIFFE ID the registry signs its path tokens as"));
}

}  // namespace

int main(int argc, char** argv) {
  daemon::BlockDaemonSignals();

  Config config;
  daemon::DaemonMain daemon_main(
      "nsmcert-registry",
      "The nsmcert reference registry: NetworkService and NetworkServiceEndpoint "
      "registries in memory, configured like upstream cmd-registry-memory.");
  Declare(daemon_main.env(), config);
  if (std::optional<int> exit = daemon_main.Configure(argc, argv)) return *exit;
  auto level = daemon::ParseLogLevelVariable(config.log_level);
  if (!level.ok()) return daemon_main.Fail(level.status());
  if (config.expire_period < absl::ZeroDuration()) {
    return daemon_main.Fail(daemon::InvalidVariable("NSM_EXPIRE_PERIOD", "must not be negative"));
  }
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return daemon_main.Fail(daemon::InvalidVariable("NSM_MAX_TOKEN_LIFETIME", "must be positive"));
  }
  daemon::InitLogging(config.name, *level);

  auto signer = daemon::MakeTokenSigner(config.name, config.spiffe_id, config.max_token_lifetime);
  if (!signer.ok()) return daemon_main.Fail(signer.status());
  nsmcert::registryd::RegistryOptions options;
  options.token_signer = *signer;
  options.default_expiration = config.expire_period;
  auto registry = nsmcert::registryd::RegistryServer::Create(std::move(options));
  if (!registry.ok()) return daemon_main.Fail(registry.status());

  auto grpc_server = daemon::StartGrpcDaemon(config.listen_on, **registry);
  if (!grpc_server.ok()) return daemon_main.Fail(grpc_server.status());
  const std::vector<std::string_view> services = {
      nsmcert::api::service::kNetworkServiceRegistry,
      nsmcert::api::service::kNetworkServiceEndpointRegistry};
  (*grpc_server)->SetServing(services, true);
  NSM_LOG(kInfo) << "serving the registry (endpoint expiration " << config.expire_period << ")";

  int sig = daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": shutting down";
  // Open watches are cancelled after the grace period; the unix socket files are removed.
  daemon::StopServing(**grpc_server, services);
  registry->reset();
  NSM_LOG(kInfo) << "stopped";
  return 0;
}
