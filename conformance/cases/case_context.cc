#include "conformance/cases/case_context.h"

#include "conformance/cases/text.h"

namespace nsmcert::conformance {

CaseLog::CaseLog(const std::filesystem::path& file, const Clock& clock)
    : clock_(clock), out_(file, std::ios::app) {}

void CaseLog::Write(std::string_view line) {
  const std::string stamp =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", clock_.Now(), absl::UTCTimeZone());
  absl::MutexLock lock(&mu_);
  if (!out_) return;
  out_ << stamp << "  " << line << '\n';
  out_.flush();  // a case that crashes must not lose the lines before the crash
}

CaseContext::CaseContext(const CaseInfo& info, const Manifest& manifest, EvidenceRecorder& evidence,
                         CaseLog& log, const Clock& clock, absl::Time deadline,
                         const CancellationFlag& cancelled, bool runs_in_own_process,
                         RoleSettings role_settings)
    : info_(info),
      manifest_(manifest),
      evidence_(evidence),
      log_(log),
      clock_(clock),
      deadline_(deadline),
      cancelled_(cancelled),
      runs_in_own_process_(runs_in_own_process),
      roles_(*this, std::move(role_settings)) {}

absl::Duration CaseContext::remaining() const {
  return std::max(absl::ZeroDuration(), deadline_ - clock_.Now());
}

void CaseContext::Check(absl::Status check) {
  if (check.ok()) return;
  absl::MutexLock lock(&mu_);
  checks_.push_back(std::move(check));
}

std::vector<absl::Status> CaseContext::recorded_checks() const {
  absl::MutexLock lock(&mu_);
  return checks_;
}

}  // namespace nsmcert::conformance
