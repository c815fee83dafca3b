// The result of a conformance run: the model behind results.json, the JUnit file and the human
// reports, its JSON form (schema: results.schema.json beside this file), and the exit code rule.
//
// Statuses of a case:
//   pass   every check held;
//   fail   the implementation did not do what the spec requires (message says expected/observed);
//   skip   the case could not be judged in this environment (message says why);
//   n-a    the manifest does not claim a feature the case needs (message names the features);
//   error  the harness itself broke: an exception, a setup failure, a timeout, a crash.
//
// Exit code of a run (ExitCodeFor):
//   2 when the harness broke anywhere (any "error") or a MUST case could not be judged ("skip"):
//     the verdict cannot be trusted, whatever else failed;
//   1 otherwise, when a MUST case failed;
//   0 otherwise: every applicable MUST case passed (SHOULD/MAY failures are reported, not fatal).
#ifndef NSMCERT_CONFORMANCE_REPORT_RESULTS_H_
#define NSMCERT_CONFORMANCE_REPORT_RESULTS_H_

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/cases/case.h"
#include "conformance/cases/evidence.h"

namespace nsmcert::conformance {

// Bumped on any incompatible change of results.json (a field removed, renamed or retyped).
inline constexpr int kResultsSchemaVersion = 1;

enum class CaseStatus { kPass, kFail, kSkip, kNotApplicable, kError };
inline constexpr CaseStatus kAllStatuses[] = {CaseStatus::kPass, CaseStatus::kFail,
                                              CaseStatus::kSkip, CaseStatus::kNotApplicable,
                                              CaseStatus::kError};
std::string_view CaseStatusName(CaseStatus status);  // "pass", "fail", "skip", "n-a", "error"
std::optional<CaseStatus> ParseCaseStatus(std::string_view text);

struct CaseResult {
  CaseInfo info;
  CaseStatus status = CaseStatus::kError;
  // One line: why it failed, was skipped, is not applicable or broke. Empty for a pass.
  std::string message;
  // Every recorded failure or error, when there was more than one thing to say.
  std::vector<std::string> details;
  // The phase the case ended in: "arrange", "act", "assert", or "" when it did not run (n-a).
  std::string phase;
  std::vector<std::string> missing_features;  // n-a: what the manifest does not claim
  std::optional<absl::Time> started;          // unset when the case did not run
  absl::Duration duration = absl::ZeroDuration();
  absl::Duration timeout = absl::ZeroDuration();  // the timeout it ran under
  std::vector<Evidence> evidence;
};

struct ManifestSummary {
  std::string path;
  std::string vendor;
  std::string product;
  std::string version;
  std::map<std::string, std::string> roles;  // role -> "reference" | "external"
  std::vector<std::string> features;
};

struct RunResult {
  std::string tool_version;
  ManifestSummary manifest;
  Profile profile = Profile::kCore;
  std::string filter;
  int jobs = 1;
  std::string isolation;  // "process" | "thread"
  absl::Duration default_timeout = absl::ZeroDuration();
  std::string host;  // kernel and machine, from uname
  absl::Time started;
  absl::Time finished;
  std::vector<CaseResult> cases;  // sorted by id
};

struct AreaSummary {
  Area area = Area::kRegistry;
  int cases = 0;
  std::array<int, std::size(kAllStatuses)> counts{};  // indexed by CaseStatus
  absl::Duration case_time = absl::ZeroDuration();    // sum of the cases' durations
  absl::Duration wall_time = absl::ZeroDuration();    // first start to last end (cases overlap)
};

struct RunSummary {
  int total = 0;
  std::array<int, std::size(kAllStatuses)> counts{};  // indexed by CaseStatus
  std::vector<std::string> failed_must;               // ids
  std::vector<std::string> unjudged_must;             // MUST cases that were skipped
  std::vector<std::string> errors;                    // ids of cases with status error
  int exit_code = 0;
  std::string verdict;             // "pass" | "fail" | "error"
  std::string explanation;         // one line saying why the exit code is what it is
  std::vector<AreaSummary> areas;  // only areas with cases, in kAllAreas order

  int count(CaseStatus status) const { return counts[static_cast<std::size_t>(status)]; }
};

RunSummary Summarize(const RunResult& result);
int ExitCodeFor(const RunResult& result);

// RFC 3339 UTC with milliseconds: "2026-01-02T03:04:05.678Z".
std::string FormatTimestamp(absl::Time time);
// Seconds with millisecond precision.
double DurationSeconds(absl::Duration duration);

// results.json. ToJson includes the derived summary and per-area times (ignored when read back).
nlohmann::json ToJson(const RunResult& result);
nlohmann::json CaseResultToJson(const CaseResult& result);
// INVALID_ARGUMENT naming the field for a document that does not have the shape ToJson writes
// (validate against the schema first for a complete list of problems).
absl::StatusOr<RunResult> RunResultFromJson(const nlohmann::json& json);
absl::StatusOr<CaseResult> CaseResultFromJson(const nlohmann::json& json);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_RESULTS_H_
