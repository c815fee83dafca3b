// Removing leftovers of harness runs that died without tearing down (a crash, SIGKILL, a power
// cut of the test runner...).
//
// A harness namespace ("nsmc-<run id>-...", run_id.h) is a leftover when its run has no marker or
// the marker's owner process is gone (run_marker.h). For each leftover the sweep SIGKILLs the
// processes still inside it, deletes the name, and finally removes the dead run's marker. Runs
// whose owner is alive are never touched, so sweeping while other runs are in progress is safe.
#ifndef NSMCERT_CONFORMANCE_HARNESS_SWEEP_H_
#define NSMCERT_CONFORMANCE_HARNESS_SWEEP_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "conformance/harness/run_marker.h"

namespace nsmcert::harness {

struct SweepOptions {
  std::string marker_dir = kDefaultRunMarkerDir;
};

struct SweepReport {
  std::vector<std::string> removed_namespaces;
  std::vector<pid_t> killed_processes;
  std::vector<std::string> removed_markers;
  // What could not be removed, one message per item (naming it). Empty on full success.
  std::vector<std::string> failures;

  bool ok() const { return failures.empty(); }
  // One line per removed or failed item; "nothing to sweep" when there was nothing.
  std::string ToString() const;
};

// Sweeps every dead run. Needs root. Never fails as a whole: per-item problems are in `failures`.
SweepReport SweepLeftovers(const SweepOptions& options = {});

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_SWEEP_H_
