// Running one case: its phases in order (RunCasePhases), under a timeout, either on a thread of
// the runner (ThreadExecutor) or in a child process of its own (ProcessExecutor, the default of
// `nsmcert run`).
//
// Process isolation is what makes a run survive its cases: a case that crashes (a failed
// assertion in a library, a segfault) or hangs in a call that ignores cancellation takes down only
// its own process, which the runner kills after the timeout; its log, captures and the process's
// stdout/stderr stay in the case directory. The child is this same binary, re-executed with the
// internal `run-case` command (see RunCaseInChild).
#ifndef NSMCERT_CONFORMANCE_RUNNER_EXECUTOR_H_
#define NSMCERT_CONFORMANCE_RUNNER_EXECUTOR_H_

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/clock.h"
#include "conformance/cases/registry.h"
#include "conformance/report/results.h"
#include "conformance/runner/manifest.h"

namespace nsmcert::conformance {

// One execution of a case.
struct CaseRun {
  const CaseEntry* entry = nullptr;
  std::filesystem::path case_dir;  // exists; evidence goes here
  std::string relative_dir;        // case_dir relative to the output directory: "cases/<id>"
  absl::Duration timeout = absl::Minutes(2);
};

// Creates the case with its factory and runs Arrange, Act and Assert in `context`, stopping at the
// first non-OK phase. Fills status, message, details and phase of `result` (not times or
// evidence). Soft checks recorded in the context count as well (an error beats a failure, which
// beats a skip). Exceptions thrown by the factory or a phase are caught and reported as harness
// errors. The case object is destroyed (its teardown runs) before this returns. `on_phase`
// (optional) is told each phase as it starts.
void RunCasePhases(const CaseEntry& entry, CaseContext& context, CaseResult& result,
                   const std::function<void(std::string_view phase)>& on_phase = {});

class CaseExecutor {
 public:
  virtual ~CaseExecutor() = default;
  // Runs the case to its end or its timeout and returns the complete result (status, message,
  // phase, start, duration, evidence). Never throws. Thread-safe: the runner calls it from
  // several workers at once.
  virtual CaseResult Execute(const CaseRun& run) = 0;
};

// Runs cases on a thread of the runner. On timeout the case is cancelled; if it still has not
// returned `grace` later it is abandoned (left running detached, owning its own state) and
// reported as an error. A crash of the case ends the whole run: use it for debugging and tests,
// ProcessExecutor for certification.
class ThreadExecutor : public CaseExecutor {
 public:
  // The manifest is copied for each case; `clock` must outlive the executor and any abandoned
  // case. `role_settings` goes to each case's context (where the reference daemons are).
  ThreadExecutor(const Manifest& manifest, const Clock& clock, absl::Duration grace,
                 RoleSettings role_settings = {});
  CaseResult Execute(const CaseRun& run) override;

 private:
  const Manifest& manifest_;
  const Clock& clock_;
  const absl::Duration grace_;
  const RoleSettings role_settings_;
};

// Runs each case in a child process: `executable run-case --manifest ... --case ID ...` (and
// `--bin-dir DIR` when role_settings names one), stdout
// and stderr to <case dir>/process.log, in a process group of its own. On timeout the child gets
// SIGTERM (which cancels the case, so its teardown runs), and `grace` later its whole process
// group gets SIGKILL.
class ProcessExecutor : public CaseExecutor {
 public:
  ProcessExecutor(std::filesystem::path executable, std::filesystem::path manifest_path,
                  const Clock& clock, absl::Duration grace, RoleSettings role_settings = {});
  CaseResult Execute(const CaseRun& run) override;

 private:
  const std::filesystem::path executable_;
  const std::filesystem::path manifest_path_;
  const Clock& clock_;
  const absl::Duration grace_;
  const RoleSettings role_settings_;
};

// The child side of ProcessExecutor: runs case `case_id` of `registry` with evidence in
// `case_dir`, cancelled on SIGTERM, and writes its result to <case_dir>/.result.json. Returns
// the process exit code: 0 when the result was written (whatever the case's status), 2 when not.
int RunCaseInChild(const CaseRegistry& registry, const std::string& manifest_path,
                   const std::string& case_id, const std::filesystem::path& case_dir,
                   const std::string& relative_dir, absl::Duration timeout,
                   RoleSettings role_settings = {});

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_RUNNER_EXECUTOR_H_
