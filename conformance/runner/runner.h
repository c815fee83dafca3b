// A conformance run: selects cases by profile and filter, reports the ones whose features the
// manifest does not claim as "n-a", runs the others (N at a time, each under its timeout, through
// a CaseExecutor), prints progress, and writes results, reports and the bundle to the output
// directory.
#ifndef NSMCERT_CONFORMANCE_RUNNER_RUNNER_H_
#define NSMCERT_CONFORMANCE_RUNNER_RUNNER_H_

#include <filesystem>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/cases/clock.h"
#include "conformance/cases/registry.h"
#include "conformance/cases/roles.h"
#include "conformance/report/results.h"
#include "conformance/runner/manifest.h"

namespace nsmcert::conformance {

enum class Isolation { kProcess, kThread };
std::string_view IsolationName(Isolation isolation);  // "process", "thread"

struct RunOptions {
  Profile profile = Profile::kCore;
  std::string filter;  // CaseFilter syntax (selection.h)
  int jobs = 1;        // cases run at the same time (each builds its own topology)
  absl::Duration default_timeout = absl::Minutes(2);  // for cases without their own
  // After a timeout, how long a cancelled case gets to tear down before it is killed (process
  // isolation) or abandoned (thread isolation).
  absl::Duration grace = absl::Seconds(10);
  Isolation isolation = Isolation::kProcess;
  std::filesystem::path out_dir;
  // Process isolation: the binary to re-execute with `run-case` (normally this one).
  std::filesystem::path executable;
  // Where cases find the reference daemons (conformance/cases/roles.h).
  RoleSettings role_settings;
  std::string tool_version;
  bool write_bundle = true;
  const Clock* clock = &Clock::Real();
  std::ostream* console = nullptr;  // progress lines; none when null
};

class Runner {
 public:
  // `registry` and `manifest` must outlive the runner. The manifest's source is the file the run
  // copies into the output and, with process isolation, the file each case process reads.
  Runner(const CaseRegistry& registry, const Manifest& manifest, RunOptions options);

  // Runs the selection and writes the output directory. The returned result's exit code
  // (ExitCodeFor) is the run's verdict. An error means the run could not start or could not write
  // its results (exit code 2): INVALID_ARGUMENT for a bad filter or option, FAILED_PRECONDITION
  // when nothing is selected or the output directory is not ours to clear, INTERNAL for I/O.
  absl::StatusOr<RunResult> Run();

 private:
  const CaseRegistry& registry_;
  const Manifest& manifest_;
  RunOptions options_;
};

// "Linux 6.1.0 x86_64", from uname.
std::string HostDescription();

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_RUNNER_RUNNER_H_
