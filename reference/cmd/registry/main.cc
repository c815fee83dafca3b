// nsmcert-registry: the reference registry daemon, configured like upstream's cmd-registry-memory
// (spec §13.2) through NSM_* environment variables; `--help` lists them.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/registry/registry_server.h"
#include "reference/sdk/daemon/env_config.h"
#include "reference/sdk/daemon/grpc_daemon.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/signals.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace {

using nsmcert::sdk::daemon::EnvConfig;
using nsmcert::sdk::daemon::GrpcDaemon;
namespace tools = nsmcert::sdk::tools;

// The trust domain of identities made up when none is configured (no SPIFFE Workload API yet).
constexpr char kDefaultTrustDomain[] = "nsmcert.local";

struct Config {
  std::vector<std::string> listen_on;
  absl::Duration expire_period;
  absl::Duration max_token_lifetime;
  std::string log_level;
  std::string name;
  std::string spiffe_id;
};

void Declare(EnvConfig& env, Config& config) {
  env.List("NSM_LISTEN_ON", &config.listen_on, "unix:///listen.on.socket",
           "URLs to serve on, comma-separated: unix:///abs/path and tcp://host:port "
           "(port 0 picks a free port; the bound URLs are printed as `listening on <url>`)");
  env.Duration("NSM_EXPIRE_PERIOD", &config.expire_period, "1m",
               "lifetime of an endpoint registration that is not refreshed (upstream declares the "
               "variable as a check period and hard-codes 1m; expiry here is timer-driven)");
  env.Duration("NSM_MAX_TOKEN_LIFETIME", &config.max_token_lifetime, "10m",
               "lifetime of the registry's own path tokens; also bounds expiration_time");
  env.String("NSM_LOG_LEVEL", &config.log_level, "INFO",
             "TRACE, DEBUG, INFO, WARN or ERROR (SIGUSR1 switches to TRACE, SIGUSR2 back)");
  env.String("NSM_NAME", &config.name, "registry", "name of this registry in logs and identity");
  env.String("NSM_SPIFFE_ID", &config.spiffe_id, "",
             absl::StrCat("SPIFFE ID the registry signs its path tokens as (default spiffe://",
                          kDefaultTrustDomain, "/<NSM_NAME>)"));
}

int Fail(const absl::Status& status) {
  std::cerr << "nsmcert-registry: " << status << "\n";
  return 2;
}

absl::StatusOr<std::shared_ptr<tools::TokenSigner>> MakeSigner(const Config& config) {
  std::string id_text = config.spiffe_id.empty()
                            ? absl::StrCat("spiffe://", kDefaultTrustDomain, "/", config.name)
                            : config.spiffe_id;
  auto id = tools::SpiffeId::Parse(id_text);
  if (!id.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        config.spiffe_id.empty() ? "NSM_NAME" : "NSM_SPIFFE_ID", ": ", id.status().message()));
  }
  // A fresh key per run: nobody verifies the registry's tokens without a Workload API, but they
  // must be well-formed ES256 JWTs with a SPIFFE subject for upstream peers (spec §2.6).
  auto key = tools::EcKey::Generate();
  if (!key.ok()) return key.status();
  return std::make_shared<tools::Es256TokenSigner>(*id, *key, config.max_token_lifetime);
}

}  // namespace

int main(int argc, char** argv) {
  nsmcert::sdk::daemon::BlockDaemonSignals();

  Config config;
  EnvConfig env("nsmcert-registry",
                "The nsmcert reference registry: NetworkService and NetworkServiceEndpoint "
                "registries in memory, configured like upstream cmd-registry-memory.");
  Declare(env, config);
  absl::StatusOr<bool> help = env.HandleArgs(argc, argv);
  if (!help.ok()) return Fail(help.status());
  if (*help) return 0;
  if (absl::Status s = env.Load(); !s.ok()) return Fail(s);
  auto level = nsmcert::sdk::daemon::ParseLogLevel(config.log_level);
  if (!level.ok())
    return Fail(
        absl::InvalidArgumentError(absl::StrCat("NSM_LOG_LEVEL: ", level.status().message())));
  if (config.expire_period < absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSM_EXPIRE_PERIOD: must not be negative"));
  }
  if (config.max_token_lifetime <= absl::ZeroDuration()) {
    return Fail(absl::InvalidArgumentError("NSM_MAX_TOKEN_LIFETIME: must be positive"));
  }
  nsmcert::sdk::daemon::InitLogging(config.name, *level);

  auto signer = MakeSigner(config);
  if (!signer.ok()) return Fail(signer.status());
  nsmcert::registryd::RegistryOptions options;
  options.token_signer = *signer;
  options.default_expiration = config.expire_period;
  auto registry = nsmcert::registryd::RegistryServer::Create(std::move(options));
  if (!registry.ok()) return Fail(registry.status());

  auto daemon = GrpcDaemon::Create(config.listen_on);
  if (!daemon.ok()) return Fail(daemon.status());
  (*registry)->RegisterServices((*daemon)->builder());
  if (absl::Status s = (*daemon)->Start(); !s.ok()) return Fail(s);
  const std::vector<std::string_view> services = {
      nsmcert::api::service::kNetworkServiceRegistry,
      nsmcert::api::service::kNetworkServiceEndpointRegistry};
  (*daemon)->SetServing(services, true);
  NSM_LOG(kInfo) << "serving the registry (endpoint expiration " << config.expire_period << ")";

  int sig = nsmcert::sdk::daemon::WaitForTermination();
  NSM_LOG(kInfo) << "signal " << sig << ": shutting down";
  (*daemon)->SetServing(services, false);
  // Open watches are cancelled after the grace period; the unix socket files are removed.
  (*daemon)->Shutdown(absl::Seconds(1));
  registry->reset();
  NSM_LOG(kInfo) << "stopped";
  return 0;
}
