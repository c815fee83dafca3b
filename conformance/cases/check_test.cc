#include "conformance/cases/check.h"

#include <gtest/gtest.h>

#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::conformance {
namespace {

TEST(CheckTest, ClassifiesVerdictsAndHarnessErrors) {
  EXPECT_EQ(ClassifyPhaseStatus(absl::OkStatus()), PhaseOutcome::kOk);
  EXPECT_EQ(ClassifyPhaseStatus(CaseFailure("nope")), PhaseOutcome::kFailure);
  EXPECT_EQ(ClassifyPhaseStatus(CaseSkip("no root")), PhaseOutcome::kSkip);
  EXPECT_EQ(ClassifyPhaseStatus(absl::InternalError("disk full")), PhaseOutcome::kHarnessError);
  // A plain status with the failure's code is still a harness error: only the marker counts.
  EXPECT_EQ(ClassifyPhaseStatus(absl::FailedPreconditionError("x")), PhaseOutcome::kHarnessError);
}

TEST(CheckTest, DescribesStatuses) {
  EXPECT_EQ(DescribePhaseStatus(CaseFailure("path too short")), "path too short");
  EXPECT_EQ(DescribePhaseStatus(CaseSkip("needs root")), "needs root");
  EXPECT_EQ(DescribePhaseStatus(absl::InternalError("disk full")), "INTERNAL: disk full");
  EXPECT_EQ(DescribePhaseStatus(CaseFailure("")), "failed");
}

TEST(CheckTest, ExpectEqSaysWhatExpectedAndObserved) {
  EXPECT_TRUE(ExpectEq("segments", 4, 4).ok());
  const absl::Status status = ExpectEq("path segment count", 4, 3);
  EXPECT_EQ(ClassifyPhaseStatus(status), PhaseOutcome::kFailure);
  EXPECT_EQ(status.message(), "path segment count: expected 4, observed 3");

  const absl::Status strings = ExpectEq("mechanism", std::string("KERNEL"), "VXLAN");
  EXPECT_EQ(strings.message(), "mechanism: expected \"KERNEL\", observed \"VXLAN\"");
  EXPECT_EQ(ExpectEq("up", true, false).message(), "up: expected true, observed false");
}

struct Proto {
  std::string ShortDebugString() const { return "name: \"nsm-1\""; }
  bool operator==(const Proto&) const { return false; }
};

TEST(CheckTest, DescribesProtobufLikeValuesByDebugString) {
  EXPECT_EQ(DescribeValue(Proto{}), "{name: \"nsm-1\"}");
  EXPECT_EQ(ExpectEq("mechanism", Proto{}, Proto{}).message(),
            "mechanism: expected {name: \"nsm-1\"}, observed {name: \"nsm-1\"}");
}

TEST(CheckTest, ExpectAndExpectOk) {
  EXPECT_TRUE(Expect(true, "x").ok());
  EXPECT_EQ(Expect(false, "an INITIAL_STATE_TRANSFER first").message(),
            "expected an INITIAL_STATE_TRANSFER first");
  EXPECT_TRUE(ExpectOk("Request", absl::OkStatus()).ok());
  const absl::Status status = ExpectOk("Request", absl::NotFoundError("network service foo"));
  EXPECT_EQ(ClassifyPhaseStatus(status), PhaseOutcome::kFailure);
  EXPECT_EQ(status.message(), "Request: expected OK, observed NOT_FOUND: network service foo");
}

absl::Status Chain(std::vector<std::string>& trace, bool fail_first) {
  NSMCERT_CASE_RETURN_IF_ERROR(fail_first ? CaseFailure("first") : absl::OkStatus());
  trace.push_back("after first");
  NSMCERT_CASE_ASSIGN_OR_RETURN(const int value, absl::StatusOr<int>(7));
  trace.push_back(std::to_string(value));
  NSMCERT_CASE_ASSIGN_OR_RETURN(const int missing,
                                absl::StatusOr<int>(absl::NotFoundError("gone")));
  trace.push_back(std::to_string(missing));
  return absl::OkStatus();
}

TEST(CheckTest, MacrosReturnEarly) {
  std::vector<std::string> trace;
  EXPECT_EQ(Chain(trace, true).message(), "first");
  EXPECT_TRUE(trace.empty());
  EXPECT_EQ(Chain(trace, false).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(trace, (std::vector<std::string>{"after first", "7"}));
}

}  // namespace
}  // namespace nsmcert::conformance
