// How a case says "the implementation is wrong" or "cannot judge here", and checks that build
// such verdicts with a message a vendor can act on: what was checked, what the spec expects and
// what was observed.
//
//   NSMCERT_CASE_RETURN_IF_ERROR(ExpectEq("path segment count", 4,
//   reply.path().path_segments_size()));
//   -> fails the case with "path segment count: expected 4, observed 3"
//
// CaseContext::Check (case_context.h) records a check without stopping the phase, to report every
// mismatch of an Assert phase at once.
#ifndef NSMCERT_CONFORMANCE_CASES_CHECK_H_
#define NSMCERT_CONFORMANCE_CASES_CHECK_H_

#include <concepts>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"
#include "conformance/cases/text.h"

namespace nsmcert::conformance {

// A status that marks the case as failed by the implementation, with `message` as the reason.
absl::Status CaseFailure(std::string_view message);
// A status that marks the case as skipped: it cannot be judged in this environment.
absl::Status CaseSkip(std::string_view reason);

// How the runner reads a phase's status.
enum class PhaseOutcome { kOk, kFailure, kSkip, kHarnessError };
PhaseOutcome ClassifyPhaseStatus(const absl::Status& status);

// The human text of a status for a report: the message alone for failures and skips, the code and
// message ("INTERNAL: ...") for harness errors.
std::string DescribePhaseStatus(const absl::Status& status);

// Renders a value for an expected/observed message: strings quoted, protobuf messages as their
// one-line debug text, anything streamable through operator<<.
template <class T>
std::string DescribeValue(const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    return value ? "true" : "false";
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return Cat("\"", std::string_view(value), "\"");
  } else if constexpr (std::is_arithmetic_v<T>) {
    return Cat(value);
  } else if constexpr (requires { value.ShortDebugString(); }) {
    return Cat("{", value.ShortDebugString(), "}");
  } else if constexpr (requires(std::ostream & os) { os << value; }) {
    std::ostringstream out;
    out << value;
    return out.str();
  } else {
    return "(value without a printer)";
  }
}

// OK when `condition` holds; otherwise a failure "expected <what>".
absl::Status Expect(bool condition, std::string_view what);

// OK when expected == observed; otherwise a failure "<what>: expected E, observed O".
template <class E, class O>
absl::Status ExpectEq(std::string_view what, const E& expected, const O& observed) {
  if (expected == observed) return absl::OkStatus();
  return CaseFailure(
      Cat(what, ": expected ", DescribeValue(expected), ", observed ", DescribeValue(observed)));
}

// OK when `status` is OK; otherwise a failure "<what>: expected OK, observed <status>". For replies
// of the implementation under test, which fail the case instead of breaking the harness.
absl::Status ExpectOk(std::string_view what, const absl::Status& status);

}  // namespace nsmcert::conformance

// Returns from the enclosing function when `expr` (an absl::Status) is not OK.
#define NSMCERT_CASE_RETURN_IF_ERROR(expr)                                        \
  do {                                                                            \
    if (absl::Status nsmcert_case_status_ = (expr); !nsmcert_case_status_.ok()) { \
      return nsmcert_case_status_;                                                \
    }                                                                             \
  } while (false)

#define NSMCERT_CASE_CONCAT_INNER_(a, b) a##b
#define NSMCERT_CASE_CONCAT_(a, b) NSMCERT_CASE_CONCAT_INNER_(a, b)
// `lhs = *expr` for an absl::StatusOr `expr`, or returns its status from the enclosing function.
#define NSMCERT_CASE_ASSIGN_OR_RETURN(lhs, expr) \
  NSMCERT_CASE_ASSIGN_OR_RETURN_IMPL_(NSMCERT_CASE_CONCAT_(nsmcert_case_or_, __LINE__), lhs, expr)
#define NSMCERT_CASE_ASSIGN_OR_RETURN_IMPL_(var, lhs, expr) \
  auto var = (expr);                                        \
  if (!var.ok()) return var.status();                       \
  lhs = std::move(*var)

#endif  // NSMCERT_CONFORMANCE_CASES_CHECK_H_
