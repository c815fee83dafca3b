#include "conformance/runner/executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <system_error>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "conformance/cases/check.h"
#include "conformance/cases/text.h"
#include "conformance/report/output_dir.h"

extern char** environ;

namespace nsmcert::conformance {
namespace {

std::string DescribeDuration(absl::Duration d) { return absl::FormatDuration(d); }

// Joins a phase's own status with the soft checks recorded during it into the result.
void Conclude(const absl::Status& phase_status, const std::vector<absl::Status>& checks,
              CaseResult& result) {
  std::vector<absl::Status> all = checks;
  if (!phase_status.ok()) all.push_back(phase_status);
  if (all.empty()) {
    result.status = CaseStatus::kPass;
    result.message.clear();
    return;
  }
  // The worst outcome decides: harness error, then failure, then skip.
  PhaseOutcome worst = PhaseOutcome::kOk;
  for (const absl::Status& status : all) {
    const PhaseOutcome outcome = ClassifyPhaseStatus(status);
    const auto rank = [](PhaseOutcome o) {
      return o == PhaseOutcome::kHarnessError ? 3
             : o == PhaseOutcome::kFailure    ? 2
             : o == PhaseOutcome::kSkip       ? 1
                                              : 0;
    };
    if (rank(outcome) > rank(worst)) worst = outcome;
  }
  result.status = worst == PhaseOutcome::kHarnessError ? CaseStatus::kError
                  : worst == PhaseOutcome::kFailure    ? CaseStatus::kFail
                                                       : CaseStatus::kSkip;
  std::vector<std::string> messages;
  std::string first;
  for (const absl::Status& status : all) {
    messages.push_back(DescribePhaseStatus(status));
    if (first.empty() && ClassifyPhaseStatus(status) == worst) first = messages.back();
  }
  result.message = first;
  if (messages.size() > 1) {
    Append(result.message, " (and ", messages.size() - 1, " more)");
    result.details = messages;
  }
}

}  // namespace

void RunCasePhases(const CaseEntry& entry, CaseContext& context, CaseResult& result,
                   const std::function<void(std::string_view phase)>& on_phase) {
  result.info = entry.info;
  result.phase = "arrange";
  std::unique_ptr<Case> instance;
  absl::Status phase_status;
  try {
    instance = entry.factory();
    if (instance == nullptr) phase_status = absl::InternalError("the case factory made no case");
  } catch (const std::exception& e) {
    phase_status = absl::InternalError(Cat("exception while creating the case: ", e.what()));
  } catch (...) {
    phase_status = absl::InternalError("unknown exception while creating the case");
  }

  struct Phase {
    const char* name;
    absl::Status (Case::*run)(CaseContext&);
  };
  static constexpr Phase kPhases[] = {
      {"arrange", &Case::Arrange}, {"act", &Case::Act}, {"assert", &Case::Assert}};
  for (const Phase& phase : kPhases) {
    if (!phase_status.ok()) break;
    if (context.cancelled()) {
      phase_status = absl::CancelledError(Cat("cancelled before phase ", phase.name));
      break;
    }
    result.phase = phase.name;
    if (on_phase) on_phase(phase.name);
    context.log().Write(Cat("phase ", phase.name));
    try {
      phase_status = (instance.get()->*phase.run)(context);
    } catch (const std::exception& e) {
      phase_status = absl::InternalError(Cat("exception in phase ", phase.name, ": ", e.what()));
    } catch (...) {
      phase_status = absl::InternalError(Cat("unknown exception in phase ", phase.name));
    }
    if (!phase_status.ok()) {
      context.log().Write(Cat("phase ", phase.name, " ended: ", DescribePhaseStatus(phase_status)));
    }
  }
  if (instance != nullptr) {
    context.log().Write("teardown");
    instance.reset();  // teardown (RAII) before the verdict is final
  }
  Conclude(phase_status, context.recorded_checks(), result);
  context.log().Write(Cat("result: ", CaseStatusName(result.status),
                          result.message.empty() ? std::string() : ": " + result.message));
}

// ---------------------------------------------------------------------------------------------
// ThreadExecutor

ThreadExecutor::ThreadExecutor(const Manifest& manifest, const Clock& clock, absl::Duration grace,
                               RoleSettings role_settings)
    : manifest_(manifest), clock_(clock), grace_(grace), role_settings_(std::move(role_settings)) {}

CaseResult ThreadExecutor::Execute(const CaseRun& run) {
  // Everything the case thread touches is owned here, shared with the thread, so an abandoned
  // case can keep running after Execute returned.
  struct Shared {
    Shared(const CaseEntry& e, const Manifest& m, const CaseRun& run, const Clock& clock)
        : entry(e),
          manifest(m),
          evidence(run.case_dir, run.relative_dir),
          log(run.case_dir / std::string(kCaseLogFileName), clock) {}
    const CaseEntry entry;
    const Manifest manifest;
    CancellationFlag cancelled{false};
    EvidenceRecorder evidence;
    CaseLog log;
    CaseResult result;
    absl::Notification done;
  };
  auto shared = std::make_shared<Shared>(*run.entry, manifest_, run, clock_);
  shared->evidence.AddRunnerFile(EvidenceKind::kLog, kCaseLogFileName, "the case's log");

  const absl::Time started = clock_.Now();
  const absl::Time deadline = started + run.timeout;
  const Clock& clock = clock_;
  std::thread thread([shared, deadline, &clock, role_settings = role_settings_] {
    CaseContext context(shared->entry.info, shared->manifest, shared->evidence, shared->log, clock,
                        deadline, shared->cancelled, /*runs_in_own_process=*/false, role_settings);
    RunCasePhases(shared->entry, context, shared->result);
    shared->done.Notify();
  });

  CaseResult result;
  if (shared->done.WaitForNotificationWithTimeout(run.timeout)) {
    thread.join();
    result = shared->result;
  } else {
    shared->cancelled = true;
    shared->log.Write(Cat("timed out after ", DescribeDuration(run.timeout), "; cancelling"));
    result.info = run.entry->info;
    result.status = CaseStatus::kError;
    if (shared->done.WaitForNotificationWithTimeout(grace_)) {
      thread.join();
      result.phase = shared->result.phase;
      result.message = Cat("timed out after ", DescribeDuration(run.timeout), " in phase ",
                           result.phase, " (the case stopped when cancelled)");
      if (!shared->result.message.empty()) {
        result.details = {result.message, Cat("the case then said: ", shared->result.message)};
      }
    } else {
      // The phase is not known without a race; the case's log says.
      thread.detach();
      result.message =
          Cat("timed out after ", DescribeDuration(run.timeout), " and did not stop within ",
              DescribeDuration(grace_), " of being cancelled; abandoned (see case.log)");
    }
  }
  result.timeout = run.timeout;
  result.started = started;
  result.duration = clock_.Now() - started;
  result.evidence = shared->evidence.Entries();
  return result;
}

// ---------------------------------------------------------------------------------------------
// ProcessExecutor

namespace {

// Waits until `pid` has exited, without reaping it (so its pid and process group id cannot be
// reused before the group is killed). Returns false on timeout.
bool WaitForExit(pid_t pid, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  while (true) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
      if (pidfd >= 0) close(pidfd);
      return true;
    }
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) {
      if (pidfd >= 0) close(pidfd);
      return false;
    }
    if (pidfd >= 0) {
      pollfd fd{pidfd, POLLIN, 0};
      // Wake at least hourly: an infinite wait must not overflow poll's int milliseconds.
      const int64_t ms = absl::ToInt64Milliseconds(std::min(left, absl::Hours(1))) + 1;
      poll(&fd, 1, static_cast<int>(ms));  // EINTR or readiness: re-check above
    } else {
      // Kernels before 5.3 have no pidfd: poll the status instead.
      absl::SleepFor(std::min(left, absl::Milliseconds(20)));
    }
  }
}

std::string ReadSmallFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string SignalDescription(int signal_number) {
  const char* name = sigdescr_np(signal_number);
  return Cat("signal ", signal_number, name ? Cat(" (", name, ")") : std::string());
}

// The SIGTERM flag of a child running a case.
std::atomic<bool> child_cancelled{false};
static_assert(std::atomic<bool>::is_always_lock_free);

extern "C" void OnChildTerminate(int) { child_cancelled.store(true); }

}  // namespace

ProcessExecutor::ProcessExecutor(std::filesystem::path executable,
                                 std::filesystem::path manifest_path, const Clock& clock,
                                 absl::Duration grace, RoleSettings role_settings)
    : executable_(std::move(executable)),
      manifest_path_(std::move(manifest_path)),
      clock_(clock),
      grace_(grace),
      role_settings_(std::move(role_settings)) {}

CaseResult ProcessExecutor::Execute(const CaseRun& run) {
  CaseResult result;
  result.info = run.entry->info;
  result.timeout = run.timeout;
  result.status = CaseStatus::kError;
  const absl::Time started = clock_.Now();
  result.started = started;

  const std::filesystem::path process_log = run.case_dir / std::string(kProcessLogFileName);
  const std::filesystem::path result_file = run.case_dir / std::string(kCaseResultFileName);
  const std::filesystem::path phase_file = run.case_dir / std::string(kCasePhaseFileName);
  std::vector<std::string> args = {executable_.string(),
                                   "run-case",
                                   "--manifest",
                                   manifest_path_.string(),
                                   "--case",
                                   run.entry->info.id,
                                   "--case-dir",
                                   run.case_dir.string(),
                                   "--relative-dir",
                                   run.relative_dir,
                                   "--timeout-ms",
                                   std::to_string(absl::ToInt64Milliseconds(run.timeout))};
  if (!role_settings_.bin_dir.empty()) {
    args.push_back("--bin-dir");
    args.push_back(role_settings_.bin_dir.string());
  }
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, process_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t default_signals;
  sigemptyset(&default_signals);
  for (int s : {SIGTERM, SIGINT, SIGPIPE, SIGCHLD}) sigaddset(&default_signals, s);
  posix_spawnattr_setsigmask(&attributes, &no_signals);
  posix_spawnattr_setsigdefault(&attributes, &default_signals);
  posix_spawnattr_setpgroup(&attributes, 0);  // own group, so the whole tree can be killed
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  pid_t pid = 0;
  const int spawn_error =
      posix_spawn(&pid, executable_.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawn_error != 0) {
    result.phase = "arrange";
    result.message = Cat("cannot start the case process ", executable_.string(), ": ",
                         std::strerror(spawn_error));
    result.duration = clock_.Now() - started;
    return result;
  }

  bool timed_out = false;
  bool killed = false;
  if (!WaitForExit(pid, run.timeout)) {
    timed_out = true;
    kill(pid, SIGTERM);  // cancels the case; its teardown runs
    if (!WaitForExit(pid, grace_)) {
      killed = true;
      kill(-pid, SIGKILL);
      WaitForExit(pid, absl::InfiniteDuration());
    }
  }
  // Whatever the case left in its process group (daemons it started and did not stop) goes too.
  kill(-pid, SIGKILL);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  result.duration = clock_.Now() - started;

  std::error_code error;
  std::string phase = ReadSmallFile(phase_file);
  std::filesystem::remove(phase_file, error);
  const std::string child_text = ReadSmallFile(result_file);
  std::filesystem::remove(result_file, error);
  std::optional<CaseResult> child;
  std::string child_problem;
  if (!child_text.empty()) {
    const nlohmann::json json = nlohmann::json::parse(child_text, nullptr, false);
    absl::StatusOr<CaseResult> parsed =
        json.is_discarded() ? absl::StatusOr<CaseResult>(
                                  absl::InvalidArgumentError("the case's result is not JSON"))
                            : CaseResultFromJson(json);
    if (parsed.ok()) {
      child = std::move(*parsed);
    } else {
      child_problem = std::string(parsed.status().message());
    }
  }
  if (child.has_value()) {
    phase = child->phase;
    result.evidence = child->evidence;
  }
  result.phase = phase.empty() ? "arrange" : phase;

  if (timed_out) {
    result.message =
        Cat("timed out after ", DescribeDuration(run.timeout), " in phase ", result.phase,
            killed ? Cat("; killed after a further ", DescribeDuration(grace_))
                   : std::string("; stopped when cancelled"));
    if (child.has_value() && !child->message.empty()) {
      result.details = {result.message, Cat("the case then said: ", child->message)};
    }
  } else if (child.has_value()) {
    result.status = child->status;
    result.message = child->message;
    result.details = child->details;
  } else if (WIFSIGNALED(wait_status)) {
    result.message = Cat("the case process died of ", SignalDescription(WTERMSIG(wait_status)),
                         " in phase ", result.phase, " (see the case's logs)");
  } else {
    const int code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    result.message = Cat("the case process exited with code ", code, " without a result",
                         child_problem.empty() ? std::string() : Cat(" (", child_problem, ")"),
                         " (see the case's logs)");
  }

  // The runner's own files first, then what the case recorded.
  EvidenceRecorder runner_files(run.case_dir, run.relative_dir);
  runner_files.AddRunnerFile(EvidenceKind::kLog, kCaseLogFileName, "the case's log");
  runner_files.AddRunnerFile(EvidenceKind::kLog, kProcessLogFileName,
                             "stdout and stderr of the case process");
  // An empty process.log says nothing; leave it out of the evidence and the bundle.
  if (std::filesystem::file_size(process_log, error) == 0 && !error) {
    std::filesystem::remove(process_log, error);
  }
  std::vector<Evidence> evidence = runner_files.Entries();
  for (const Evidence& e : result.evidence) {
    if (std::find(evidence.begin(), evidence.end(), e) == evidence.end()) evidence.push_back(e);
  }
  result.evidence = std::move(evidence);
  return result;
}

int RunCaseInChild(const CaseRegistry& registry, const std::string& manifest_path,
                   const std::string& case_id, const std::filesystem::path& case_dir,
                   const std::string& relative_dir, absl::Duration timeout,
                   RoleSettings role_settings) {
  struct sigaction action {};
  action.sa_handler = OnChildTerminate;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);

  const Clock& clock = Clock::Real();
  CaseResult result;
  result.status = CaseStatus::kError;
  result.phase = "arrange";
  const CaseEntry* entry = registry.Find(case_id);
  absl::StatusOr<Manifest> manifest = LoadManifestFile(manifest_path);
  if (entry == nullptr) {
    result.info.id = case_id;
    result.message = Cat("no case ", case_id, " in this binary's catalogue");
  } else if (!manifest.ok()) {
    result.info = entry->info;
    result.message = std::string(manifest.status().message());
  } else {
    EvidenceRecorder evidence(case_dir, relative_dir);
    CaseLog log(case_dir / std::string(kCaseLogFileName), clock);
    CaseContext context(entry->info, *manifest, evidence, log, clock, clock.Now() + timeout,
                        child_cancelled, /*runs_in_own_process=*/true, std::move(role_settings));
    const std::filesystem::path phase_file = case_dir / std::string(kCasePhaseFileName);
    RunCasePhases(*entry, context, result, [&](std::string_view phase) {
      (void)WriteFile(phase_file, phase);  // only read if the process dies; best effort
    });
    result.evidence = evidence.Entries();
  }
  const std::string json =
      CaseResultToJson(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::filesystem::path partial = case_dir / Cat(kCaseResultFileName, ".partial");
  if (!WriteFile(partial, json).ok()) return 2;
  std::error_code error;
  std::filesystem::rename(partial, case_dir / std::string(kCaseResultFileName), error);
  return error ? 2 : 0;
}

}  // namespace nsmcert::conformance
