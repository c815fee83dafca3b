#include "conformance/cases/roles.h"

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/text.h"
#include "conformance/harness/health.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance {
namespace {

// Reference daemons and supervised external roles get this long to stop on SIGTERM.
constexpr absl::Duration kStopGrace = absl::Seconds(3);

bool IsExecutableFile(const std::filesystem::path& path) {
  std::error_code error;
  return std::filesystem::is_regular_file(path, error) && access(path.c_str(), X_OK) == 0;
}

bool IsValidInstanceName(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

std::string DescribeRole(Role role, Implementation implementation, const RoleSpec& spec,
                         const std::string& name, const std::filesystem::path& binary) {
  if (implementation == Implementation::kReference) {
    return Cat("the ", RoleName(role), " \"", name, "\" (reference ", binary.filename().string(),
               ")");
  }
  return Cat("the ", RoleName(role), " \"", name, "\" (external, ",
             spec.address.empty() ? "started by the manifest's command" : "reached at an address",
             ")");
}

// A private directory for one instance: short, because unix socket paths inside it must stay
// under 108 bytes.
absl::StatusOr<std::filesystem::path> MakeWorkDir(const std::string& name) {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error || base.string().size() > 40) base = "/tmp";
  std::string pattern = (base / Cat("nsmc-", name.substr(0, 16), "-XXXXXX")).string();
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(
        Cat("cannot create a work directory ", pattern, ": ", std::strerror(errno)));
  }
  return std::filesystem::path(pattern);
}

std::string JoinServices(const std::vector<std::string>& services) {
  return services.empty() ? std::string("the server") : Join(services, ", ");
}

}  // namespace

absl::StatusOr<std::filesystem::path> FindReferenceBinary(Role role, const RoleSettings& settings) {
  const std::string file = Cat("nsmcert-", RoleName(role));
  const std::string build_tree = Cat("reference/cmd/", RoleName(role));
  std::vector<std::filesystem::path> candidates;
  if (!settings.bin_dir.empty()) {
    candidates.push_back(settings.bin_dir / file);
    candidates.push_back(settings.bin_dir / build_tree / file);
  } else {
    std::error_code error;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", error);
    if (!error) {
      const std::filesystem::path dir = exe.parent_path();
      candidates.push_back(dir / file);
      candidates.push_back(dir.parent_path() / build_tree / file);
    }
  }
  for (const std::filesystem::path& candidate : candidates) {
    if (IsExecutableFile(candidate)) return candidate.lexically_normal();
  }
  std::vector<std::string> looked;
  for (const std::filesystem::path& candidate : candidates) {
    looked.push_back(candidate.lexically_normal().string());
  }
  return absl::NotFoundError(Cat("the reference ", RoleName(role), " binary ", file,
                                 " is not built or not found (looked at ",
                                 looked.empty() ? std::string("nothing") : Join(looked, ", "),
                                 "); build it or pass --bin-dir"));
}

std::vector<std::string> HealthServicesOf(Role role) {
  namespace service = api::service;
  switch (role) {
    case Role::kRegistry:
      return {std::string(service::kNetworkServiceRegistry),
              std::string(service::kNetworkServiceEndpointRegistry)};
    case Role::kNsmgr:
      return {std::string(service::kNetworkService), std::string(service::kMonitorConnection),
              std::string(service::kNetworkServiceRegistry),
              std::string(service::kNetworkServiceEndpointRegistry)};
    case Role::kForwarder:
    case Role::kNse:
      return {std::string(service::kNetworkService), std::string(service::kMonitorConnection)};
    case Role::kNsc:
      return {};
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// RunningRole

RunningRole::~RunningRole() {
  if (process_ != nullptr && process_->running()) (void)process_->Stop(kStopGrace);
  supervisor_.reset();  // kills and reaps whatever is left
  if (!work_dir_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(work_dir_, error);
  }
}

absl::Status RunningRole::Kill() {
  if (process_ == nullptr) {
    return absl::FailedPreconditionError(Cat(description_, " is not started by the suite"));
  }
  return process_->Kill();
}

absl::Status RunningRole::Stop(absl::Duration grace) {
  if (process_ == nullptr) {
    return absl::FailedPreconditionError(Cat(description_, " is not started by the suite"));
  }
  return process_->Stop(grace);
}

absl::Status RunningRole::Restart(absl::Duration timeout) {
  if (process_ == nullptr) {
    return absl::FailedPreconditionError(
        Cat(description_, " is not started by the suite, so it cannot be restarted"));
  }
  if (absl::Status s = process_->Restart(kStopGrace); !s.ok()) {
    return absl::Status(s.code(), Cat("restarting ", description_, ": ", std::string(s.message())));
  }
  return WaitHealthy(timeout);
}

absl::Status RunningRole::WaitHealthy(absl::Duration timeout) {
  const harness::HealthTarget target{url_, netns_path_};
  const absl::Status status = process_ != nullptr
                                  ? process_->WaitHealthy(target, health_services_, timeout)
                                  : harness::WaitHealthy(target, health_services_, timeout);
  if (status.ok()) return status;
  const std::string message =
      Cat(description_, " did not report ", JoinServices(health_services_), " SERVING on ", url_,
          " within ", absl::FormatDuration(timeout), ": ", std::string(status.message()));
  // Every NSM server serves gRPC health (spec §2.1): an implementation under test that never does
  // fails; our own daemon failing to come up is the harness's trouble.
  if (implementation_ == Implementation::kExternal) return CaseFailure(message);
  return absl::UnavailableError(message);
}

std::string RunningRole::LogTail(int lines) const {
  return process_ != nullptr ? process_->LogTail(lines) : std::string();
}

// ---------------------------------------------------------------------------------------------
// RoleLauncher

RoleLauncher::RoleLauncher(CaseContext& context, RoleSettings settings)
    : context_(context), settings_(std::move(settings)) {}

const RoleSpec& RoleLauncher::spec(Role role) const { return context_.manifest().role(role); }

absl::StatusOr<std::unique_ptr<RunningRole>> RoleLauncher::Start(Role role,
                                                                 RoleStartOptions options) {
  const RoleSpec& role_spec = spec(role);
  const std::string name = options.name.empty() ? std::string(RoleName(role)) : options.name;
  if (!IsValidInstanceName(name)) {
    return absl::InvalidArgumentError(Cat("role instance name \"", name,
                                          "\": use 1-64 of [A-Za-z0-9._-], not starting with '.'"));
  }
  const bool reached =
      role_spec.implementation == Implementation::kExternal && !role_spec.address.empty();

  std::unique_ptr<RunningRole> running(new RunningRole());
  running->role_ = role;
  running->implementation_ = role_spec.implementation;
  running->name_ = name;
  running->netns_path_ = options.netns_path;
  running->health_services_ =
      options.health_services.empty() ? HealthServicesOf(role) : options.health_services;

  std::map<std::string, std::string> values = options.template_values;
  values["name"] = name;
  values["node"] = options.node.empty() ? "host" : options.node;
  if (!reached) {
    auto work_dir = MakeWorkDir(name);
    if (!work_dir.ok()) return work_dir.status();
    running->work_dir_ = *work_dir;
    values["work_dir"] = work_dir->string();
    values["listen_url"] = options.listen_url.empty()
                               ? Cat("unix://", (*work_dir / Cat(name, ".sock")).string())
                               : options.listen_url;
    // A registry is its own registry URL.
    if (role == Role::kRegistry && values.count("registry_url") == 0) {
      values["registry_url"] = values["listen_url"];
    }
  }
  const std::string where = role_spec.location.ToString();
  const auto expand = [&](std::string_view text,
                          std::string_view field) -> absl::StatusOr<std::string> {
    auto expanded = ExpandTemplate(text, values);
    if (!expanded.ok()) {
      return absl::InvalidArgumentError(Cat(where.empty() ? std::string() : where + ": ", "roles.",
                                            RoleName(role), ".", field, ": ",
                                            std::string(expanded.status().message())));
    }
    return expanded;
  };

  // A role that already runs: only dial it.
  if (reached) {
    auto address = expand(role_spec.address, "address");
    if (!address.ok()) return address.status();
    running->url_ = *address;
    running->description_ = DescribeRole(role, role_spec.implementation, role_spec, name, {});
    context_.log().Write(Cat("reaching ", running->description_, " at ", running->url_));
    const absl::Duration timeout = std::min(role_spec.startup_timeout, context_.remaining());
    if (absl::Status s = running->WaitHealthy(timeout); !s.ok()) return s;
    return running;
  }

  const std::string listen_on = values["listen_url"];
  running->url_ = listen_on.substr(0, listen_on.find(','));
  harness::ProcessSpec process_spec;
  process_spec.name = name;
  process_spec.netns_path = options.netns_path;
  std::filesystem::path binary;
  if (role_spec.implementation == Implementation::kReference) {
    auto found = FindReferenceBinary(role, settings_);
    if (!found.ok()) return found.status();
    binary = *found;
    process_spec.argv = {binary.string()};
    // Stray files of our own daemons go to the work directory; external commands keep the
    // runner's directory, where relative paths in the manifest were meant.
    process_spec.working_dir = running->work_dir_.string();
    // The reference daemons read NSM_* variables (spec §13); ours win over the runner's own.
    std::map<std::string, std::string> env = options.upstream_env;
    for (const auto& [key, value] : options.reference_env) env[key] = value;
    env["NSM_LISTEN_ON"] = listen_on;
    env.try_emplace("NSM_NAME", name);
    for (auto& [key, value] : env) process_spec.env.emplace_back(key, value);
  } else {
    for (std::size_t i = 0; i < role_spec.command.size(); ++i) {
      auto arg = expand(role_spec.command[i],
                        role_spec.shell ? std::string("command") : Cat("command[", i, "]"));
      if (!arg.ok()) return arg.status();
      process_spec.argv.push_back(*std::move(arg));
    }
    std::map<std::string, std::string> env = options.upstream_env;
    for (const auto& [key, value] : role_spec.env) {
      auto expanded = expand(value, Cat("env.", key));
      if (!expanded.ok()) return expanded.status();
      env[key] = *std::move(expanded);
    }
    for (auto& [key, value] : env) process_spec.env.emplace_back(key, std::move(value));
  }
  running->description_ = DescribeRole(role, role_spec.implementation, role_spec, name, binary);

  // The log goes straight into the case's evidence: <case dir>/<name>.log.
  const std::string log_name = Cat(name, ".log");
  auto log_path = context_.evidence().NewFile(EvidenceKind::kLog, log_name,
                                              Cat("stdout and stderr of ", running->description_));
  if (!log_path.ok()) return log_path.status();
  harness::Supervisor::Options supervisor_options;
  supervisor_options.log_dir = context_.evidence().dir().string();
  // The runner owns SIGTERM (it cancels the case, whose teardown stops the role); PDEATHSIG still
  // takes the process down if the case process dies.
  supervisor_options.handle_signals = false;
  auto supervisor = harness::Supervisor::Create(supervisor_options);
  if (!supervisor.ok()) return supervisor.status();
  running->supervisor_ = *std::move(supervisor);
  context_.log().Write(Cat("starting ", running->description_, ": ", Join(process_spec.argv, " "),
                           " (listening on ", running->url_, ")"));
  auto process = running->supervisor_->Start(std::move(process_spec));
  if (!process.ok()) {
    return absl::Status(process.status().code(), Cat("cannot start ", running->description_, ": ",
                                                     std::string(process.status().message())));
  }
  running->process_ = *process;
  const absl::Duration timeout = std::min(role_spec.startup_timeout, context_.remaining());
  if (absl::Status s = running->WaitHealthy(timeout); !s.ok()) return s;
  context_.log().Write(Cat(running->description_, " is healthy"));
  return running;
}

}  // namespace nsmcert::conformance
