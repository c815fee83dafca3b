// The start-up and shutdown every daemon's main() shares, so that each main reads as: declare its
// configuration, check its own fields, build its server, serve.
//
//   BlockDaemonSignals();                        // first, before any thread starts
//   DaemonMain daemon_main("nsmcert-x", "The nsmcert reference x: ...");
//   Declare(daemon_main.env(), config);          // NSM_LOG_LEVEL with kLogLevelHelp, ...
//   if (std::optional<int> exit = daemon_main.Configure(argc, argv)) return *exit;
//   auto level = ParseLogLevelVariable(config.log_level);
//   if (!level.ok()) return daemon_main.Fail(level.status());
//   ...                                          // the daemon's own checks, then InitLogging
//   auto signer = MakeTokenSigner(config.name, config.spiffe_id, config.max_token_lifetime);
//   auto grpc_server = StartGrpcDaemon(config.listen_on, *server);
//   (*grpc_server)->SetServing(services, true);
//   WaitForTermination();
//   StopServing(**grpc_server, services, [&] { server->StopMonitorStreams(); });
//
// Conventions the daemons' users rely on (tests, docs, scripts): a configuration or start-up error
// is printed to stderr as `<program>: <status>` and the process exits 2; an error about an
// environment variable starts with the variable's name.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "reference/sdk/daemon/env_config.h"
#include "reference/sdk/daemon/grpc_daemon.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::daemon {

// Exit status of a daemon whose configuration or start-up failed.
inline constexpr int kExitBadConfiguration = 2;

// The trust domain of the identities made up when NSM_SPIFFE_ID is not set (there is no SPIFFE
// Workload API to ask yet).
inline constexpr char kDefaultTrustDomain[] = "nsmcert.local";

// Help text of NSM_LOG_LEVEL, the same in every daemon.
inline constexpr char kLogLevelHelp[] =
    "TRACE, DEBUG, INFO, WARN or ERROR (SIGUSR1 switches to TRACE, SIGUSR2 back)";

// Help text of NSM_SPIFFE_ID: `signs_as` (e.g. "SPIFFE ID the nsmgr signs its tokens as") followed
// by the default MakeTokenSigner uses.
std::string SpiffeIdHelp(absl::string_view signs_as);

// INVALID_ARGUMENT "<variable>: <message>".
absl::Status InvalidVariable(absl::string_view variable, absl::string_view message);
// `status` with its code and "<variable>: " before its message; OK stays OK.
absl::Status NameVariable(absl::string_view variable, const absl::Status& status);

// NSM_LOG_LEVEL's value; INVALID_ARGUMENT "NSM_LOG_LEVEL: ..." when it is not a level.
absl::StatusOr<LogLevel> ParseLogLevelVariable(std::string_view text);

// The signer of a daemon's own tokens: ES256 JWTs with a SPIFFE subject, signed by a key made now
// (the insecure profile, spec §2.6: peers read them, nobody can verify them). The subject is
// `spiffe_id` (NSM_SPIFFE_ID) or, when that is empty, spiffe://<kDefaultTrustDomain>/<name>.
// Errors: INVALID_ARGUMENT naming NSM_SPIFFE_ID, or NSM_NAME for a default that is not a SPIFFE ID;
// the key generation's error as it is.
absl::StatusOr<std::shared_ptr<tools::TokenSigner>> MakeTokenSigner(const std::string& name,
                                                                    const std::string& spiffe_id,
                                                                    absl::Duration max_lifetime);

// A daemon's command line, environment and failure reporting. Not thread-safe; one per process.
class DaemonMain {
 public:
  // `program` prefixes every error (e.g. "nsmcert-nsmgr"); `summary` heads --help.
  DaemonMain(std::string program, std::string summary);

  // Where the daemon declares its variables, before Configure().
  EnvConfig& env() { return env_; }

  // Handles the arguments (`--help` prints the help) and loads every declared variable. The exit
  // status to return from main at once (0 after --help, kExitBadConfiguration after an error,
  // printed as Fail() does), or nullopt to go on.
  std::optional<int> Configure(int argc, char** argv);

  // Prints `<program>: <status>` to stderr; returns kExitBadConfiguration for main to return.
  int Fail(const absl::Status& status) const;

 private:
  std::string program_;
  EnvConfig env_;
};

// The gRPC server on `listen_on` with the services of `server` (anything with
// RegisterServices(grpc::ServerBuilder&)), started: bound, listen report written. Health is not
// reported SERVING yet, so a daemon can finish what depends on its bound URLs first. Errors, as
// GrpcDaemon gives them: INVALID_ARGUMENT only for a bad listen URL (Create), otherwise Start()'s
// UNAVAILABLE (a bind) or INTERNAL (the listen report).
template <typename Server>
absl::StatusOr<std::unique_ptr<GrpcDaemon>> StartGrpcDaemon(std::vector<std::string> listen_on,
                                                            Server& server) {
  auto daemon = GrpcDaemon::Create(std::move(listen_on));
  if (!daemon.ok()) return daemon.status();
  server.RegisterServices((*daemon)->builder());
  if (absl::Status s = (*daemon)->Start(); !s.ok()) return s;
  return daemon;
}

// The end of serving: health NOT_SERVING for `services` (and the server), then `end_streams` (open
// monitor streams and watches, which would otherwise hold Shutdown for its whole grace period),
// then Shutdown with 1 s for the calls in flight; unix socket files are removed.
void StopServing(GrpcDaemon& daemon, const std::vector<std::string_view>& services,
                 const std::function<void()>& end_streams = nullptr);

}  // namespace nsmcert::sdk::daemon
