#include "conformance/cases/check.h"

#include "absl/strings/cord.h"

namespace nsmcert::conformance {
namespace {

// The payload that tells a verdict from a harness error. Its value is "fail" or "skip".
constexpr char kOutcomePayload[] = "type.nsmcert/conformance.PhaseOutcome";

absl::Status WithOutcome(absl::StatusCode code, std::string_view message, const char* outcome) {
  absl::Status status(code, std::string(message));
  status.SetPayload(kOutcomePayload, absl::Cord(outcome));
  return status;
}

}  // namespace

absl::Status CaseFailure(std::string_view message) {
  return WithOutcome(absl::StatusCode::kFailedPrecondition,
                     message.empty() ? std::string_view("failed") : message, "fail");
}

absl::Status CaseSkip(std::string_view reason) {
  return WithOutcome(absl::StatusCode::kUnavailable,
                     reason.empty() ? std::string_view("skipped") : reason, "skip");
}

PhaseOutcome ClassifyPhaseStatus(const absl::Status& status) {
  if (status.ok()) return PhaseOutcome::kOk;
  const auto outcome = status.GetPayload(kOutcomePayload);  // absl::optional<absl::Cord>
  if (outcome.has_value()) {
    if (*outcome == "fail") return PhaseOutcome::kFailure;
    if (*outcome == "skip") return PhaseOutcome::kSkip;
  }
  return PhaseOutcome::kHarnessError;
}

std::string DescribePhaseStatus(const absl::Status& status) {
  switch (ClassifyPhaseStatus(status)) {
    case PhaseOutcome::kOk:
      return "";
    case PhaseOutcome::kFailure:
    case PhaseOutcome::kSkip:
      return std::string(status.message());
    case PhaseOutcome::kHarnessError:
      break;
  }
  return Cat(absl::StatusCodeToString(status.code()), ": ", std::string(status.message()));
}

absl::Status Expect(bool condition, std::string_view what) {
  if (condition) return absl::OkStatus();
  return CaseFailure(Cat("expected ", what));
}

absl::Status ExpectOk(std::string_view what, const absl::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return CaseFailure(Cat(what, ": expected OK, observed ", absl::StatusCodeToString(status.code()),
                         ": ", std::string(status.message())));
}

}  // namespace nsmcert::conformance
