#include "reference/sdk/daemon/daemon_main.h"

#include <iostream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace nsmcert::sdk::daemon {

std::string SpiffeIdHelp(absl::string_view signs_as) {
  return absl::StrCat(signs_as, " (default spiffe://", kDefaultTrustDomain, "/<NSM_NAME>)");
}

absl::Status InvalidVariable(absl::string_view variable, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(variable, ": ", message));
}

absl::Status NameVariable(absl::string_view variable, const absl::Status& status) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(variable, ": ", status.message()));
}

absl::StatusOr<LogLevel> ParseLogLevelVariable(std::string_view text) {
  absl::StatusOr<LogLevel> level = ParseLogLevel(text);
  if (!level.ok()) return InvalidVariable("NSM_LOG_LEVEL", level.status().message());
  return level;
}

absl::StatusOr<std::shared_ptr<tools::TokenSigner>> MakeTokenSigner(const std::string& name,
                                                                    const std::string& spiffe_id,
                                                                    absl::Duration max_lifetime) {
  const std::string id_text =
      spiffe_id.empty() ? absl::StrCat("spiffe://", kDefaultTrustDomain, "/", name) : spiffe_id;
  auto id = tools::SpiffeId::Parse(id_text);
  if (!id.ok()) {
    // A made-up identity is wrong because of the name it was made from.
    return InvalidVariable(spiffe_id.empty() ? "NSM_NAME" : "NSM_SPIFFE_ID", id.status().message());
  }
  // A fresh key per run: without a Workload API nobody verifies these signatures, but the tokens
  // must be well-formed ES256 JWTs with a SPIFFE subject for upstream peers.
  auto key = tools::EcKey::Generate();
  if (!key.ok()) return key.status();
  return std::make_shared<tools::Es256TokenSigner>(*id, *key, max_lifetime);
}

DaemonMain::DaemonMain(std::string program, std::string summary)
    : program_(program), env_(std::move(program), std::move(summary)) {}

std::optional<int> DaemonMain::Configure(int argc, char** argv) {
  absl::StatusOr<bool> help = env_.HandleArgs(argc, argv);
  if (!help.ok()) return Fail(help.status());
  if (*help) return 0;
  if (absl::Status s = env_.Load(); !s.ok()) return Fail(s);
  return std::nullopt;
}

int DaemonMain::Fail(const absl::Status& status) const {
  std::cerr << program_ << ": " << status << "\n";
  return kExitBadConfiguration;
}

void StopServing(GrpcDaemon& daemon, const std::vector<std::string_view>& services,
                 const std::function<void()>& end_streams) {
  daemon.SetServing(services, false);
  if (end_streams) end_streams();
  daemon.Shutdown(absl::Seconds(1));
}

}  // namespace nsmcert::sdk::daemon
