// Starting or reaching the roles of the manifest (registry, nsmgr, forwarder, NSE, NSC) for a case.
//
// A case asks its context for a role (`context.roles().StartRegistry()`) and gets a RunningRole:
// the URL to dial and, when the suite started the process, control over it (kill, restart). What
// happens depends on the manifest's entry for the role (conformance/runner/manifest.h):
//   - implementation: reference -> the reference daemon nsmcert-<role> (RoleSettings says where the
//     binaries are), configured through its NSM_* environment, listening on a unix socket in a
//     private directory;
//   - external with `command` -> that command with its templates ({name}, {listen_url},
//     {work_dir}, ...) expanded and the manifest's environment, in the runner's working directory
//     (relative paths in the manifest mean what they mean where nsmcert was started);
//   - external with `address` -> nothing is started; the address is dialled as it is.
// Either way the case waits for gRPC health (grpc.health.v1) of the role's services before it
// gets the role. A started process runs under the harness supervisor (conformance/harness/
// process.h), inside the requested network namespace, with stdout and stderr filed as the case's
// evidence (<case dir>/<name>.log).
//
// Verdicts: a role the suite cannot start (reference binary missing, exec failure, a template
// without a value) is the harness's trouble (a plain error -> "error"); an external role that
// starts but never reports healthy fails the case (CaseFailure: every NSM server must serve gRPC
// health, spec §2.1); a reference daemon that never reports healthy is a harness error.
//
// Threading: a RoleLauncher serves one case's thread; a RunningRole's methods are thread-safe.
#ifndef NSMCERT_CONFORMANCE_CASES_ROLES_H_
#define NSMCERT_CONFORMANCE_CASES_ROLES_H_

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/harness/process.h"
#include "conformance/runner/manifest.h"

namespace nsmcert::conformance {

class CaseContext;

// Where the reference daemons are; the runner's --bin-dir.
struct RoleSettings {
  // A directory holding nsmcert-<role>, either directly or in the build tree's layout
  // (<dir>/reference/cmd/<role>/nsmcert-<role>, so the build directory itself works). Empty: next
  // to the running executable, then the build tree around it (<exe dir>/../reference/cmd/<role>/),
  // which is where `nsmcert` finds them in a build tree.
  std::filesystem::path bin_dir;
};

// The reference binary of `role`: the first candidate of the rule above that exists and is
// executable. NOT_FOUND lists every place looked at.
absl::StatusOr<std::filesystem::path> FindReferenceBinary(Role role, const RoleSettings& settings);

// The services a role's gRPC health must report SERVING (spec §2.1).
std::vector<std::string> HealthServicesOf(Role role);

struct RoleStartOptions {
  // The instance's name ({name}, NSM_NAME of a reference daemon, the log file's name):
  // [A-Za-z0-9._-]. Empty: the role's name ("registry").
  std::string name;
  // {node}: the node the instance runs on. Empty: "host" (the runner's own namespace).
  std::string node;
  // A network namespace file to run the process in; empty: the runner's namespace. A role reached
  // at an address is probed from here too.
  std::string netns_path;
  // The URL the instance serves on ({listen_url}). Empty: unix://<work dir>/<name>.sock. A
  // comma-separated list serves on each (NSM_LISTEN_ON and {listen_url} get the whole list); the
  // first is the role's url(), where health is probed.
  std::string listen_url;
  // Values of the other template variables ({registry_url}, {connect_to}, {tunnel_ip}); a template
  // that uses one not given here is an error naming it.
  std::map<std::string, std::string> template_values;
  // The instance's per-case configuration in upstream's own variables (spec §13: an NSE's
  // NSM_SERVICE_NAMES, NSM_CIDR_PREFIX, NSM_LABELS, ...). Given to reference daemons and external
  // commands alike, so that an upstream-compatible implementation is configured per case too; the
  // manifest's env for the role overrides a variable it also sets, reference_env likewise.
  std::map<std::string, std::string> upstream_env;
  // Extra environment of a reference daemon (NSM_EXPIRE_PERIOD, say). Not given to external roles:
  // their configuration is the manifest's.
  std::map<std::string, std::string> reference_env;
  // Services that must report SERVING; empty: HealthServicesOf(role).
  std::vector<std::string> health_services;
};

// A role of the case, started or reached. Stops what it started when destroyed (SIGTERM, then
// SIGKILL after a grace period) and removes its work directory.
class RunningRole {
 public:
  ~RunningRole();
  RunningRole(const RunningRole&) = delete;
  RunningRole& operator=(const RunningRole&) = delete;

  Role role() const { return role_; }
  Implementation implementation() const { return implementation_; }
  const std::string& name() const { return name_; }
  // Where clients dial it: unix:///... or tcp://host:port.
  const std::string& url() const { return url_; }
  // A private directory of the instance ({work_dir}); empty for a role reached at an address.
  const std::filesystem::path& work_dir() const { return work_dir_; }
  // True when the suite started the process (reference, or external with a command), so it can
  // kill and restart it; false for a role reached at an address.
  bool supervised() const { return process_ != nullptr; }
  bool running() const { return process_ != nullptr && process_->running(); }

  // SIGKILL to the process group (a crash, as the harness sees it). FAILED_PRECONDITION when not
  // supervised or not running.
  absl::Status Kill();
  // SIGTERM, SIGKILL after `grace`. FAILED_PRECONDITION when not supervised or not running.
  absl::Status Stop(absl::Duration grace = absl::Seconds(3));
  // Starts the process again with the same command, environment and URL (stopping it first if it
  // runs) and waits for health until `timeout`. Errors as for RoleLauncher::Start.
  absl::Status Restart(absl::Duration timeout);
  // Waits until the role's services report SERVING; errors as for RoleLauncher::Start.
  absl::Status WaitHealthy(absl::Duration timeout);
  // The last lines of the process's log ("" when not supervised).
  std::string LogTail(int lines = 20) const;

 private:
  friend class RoleLauncher;
  RunningRole() = default;

  Role role_ = Role::kRegistry;
  Implementation implementation_ = Implementation::kReference;
  std::string name_;
  std::string url_;
  std::string netns_path_;
  std::vector<std::string> health_services_;
  std::filesystem::path work_dir_;
  std::unique_ptr<harness::Supervisor> supervisor_;  // one per role: it owns the process
  harness::Process* process_ = nullptr;
  std::string description_;  // "the registry (reference nsmcert-registry)", for messages
};

// Starts roles for one case; owned by its CaseContext.
class RoleLauncher {
 public:
  RoleLauncher(CaseContext& context, RoleSettings settings);

  const RoleSettings& settings() const { return settings_; }
  // How the manifest says `role` is provided.
  const RoleSpec& spec(Role role) const;

  // Starts (or reaches) `role` as the manifest says and waits for its health, at most the role's
  // startup_timeout (reference roles: 30 s) and never past the case's deadline.
  absl::StatusOr<std::unique_ptr<RunningRole>> Start(Role role, RoleStartOptions options = {});
  absl::StatusOr<std::unique_ptr<RunningRole>> StartRegistry(RoleStartOptions options = {}) {
    return Start(Role::kRegistry, std::move(options));
  }

 private:
  CaseContext& context_;
  const RoleSettings settings_;
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_ROLES_H_
