// What a case receives in each phase: the manifest, its evidence directory, a log, the clock and
// its deadline, and a way to record soft checks.
#ifndef NSMCERT_CONFORMANCE_CASES_CASE_CONTEXT_H_
#define NSMCERT_CONFORMANCE_CASES_CASE_CONTEXT_H_

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "conformance/cases/case.h"
#include "conformance/cases/clock.h"
#include "conformance/cases/evidence.h"
#include "conformance/cases/roles.h"
#include "conformance/runner/manifest.h"

namespace nsmcert::conformance {

// A case's log: timestamped lines in <case dir>/case.log. Thread-safe. A log that cannot be opened
// swallows lines (the case still runs; its evidence list then lacks case.log).
class CaseLog {
 public:
  CaseLog(const std::filesystem::path& file, const Clock& clock);
  void Write(std::string_view line);

 private:
  const Clock& clock_;
  absl::Mutex mu_;
  std::ofstream out_ ABSL_GUARDED_BY(mu_);
};

// Set by the runner when a case must stop (timeout, termination). Cases poll it in long waits.
using CancellationFlag = std::atomic<bool>;

class CaseContext {
 public:
  // All references must outlive the context. `runs_in_own_process` tells whether a crash of this
  // case would take only its own process down (process isolation) or the whole run.
  // `role_settings` says where the reference daemons are (roles.h).
  CaseContext(const CaseInfo& info, const Manifest& manifest, EvidenceRecorder& evidence,
              CaseLog& log, const Clock& clock, absl::Time deadline,
              const CancellationFlag& cancelled, bool runs_in_own_process,
              RoleSettings role_settings = {});

  const CaseInfo& info() const { return info_; }
  const Manifest& manifest() const { return manifest_; }
  EvidenceRecorder& evidence() { return evidence_; }
  CaseLog& log() { return log_; }
  const Clock& clock() const { return clock_; }
  // When the runner stops waiting for the case. Waits inside the case should end earlier.
  absl::Time deadline() const { return deadline_; }
  // Time left until the deadline, never negative.
  absl::Duration remaining() const;
  // True once the runner asked the case to stop (it outlived its timeout).
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
  bool runs_in_own_process() const { return runs_in_own_process_; }
  // Starts or reaches the manifest's roles for this case (roles.h).
  RoleLauncher& roles() { return roles_; }

  // Records a check without stopping the phase: an OK status is ignored, a failure (check.h) is
  // collected and fails the case once the phases are done, any other error marks a harness error.
  // For Assert phases that compare many fields and should report every mismatch. Thread-safe.
  void Check(absl::Status check);
  // The non-OK statuses given to Check, in order.
  std::vector<absl::Status> recorded_checks() const;

 private:
  const CaseInfo& info_;
  const Manifest& manifest_;
  EvidenceRecorder& evidence_;
  CaseLog& log_;
  const Clock& clock_;
  const absl::Time deadline_;
  const CancellationFlag& cancelled_;
  const bool runs_in_own_process_;
  mutable absl::Mutex mu_;
  std::vector<absl::Status> checks_ ABSL_GUARDED_BY(mu_);
  RoleLauncher roles_;
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_CASE_CONTEXT_H_
