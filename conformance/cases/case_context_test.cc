#include "conformance/cases/case_context.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "conformance/cases/check.h"
#include "conformance/cases/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;

class CaseContextTest : public ::testing::Test {
 protected:
  CaseContextTest()
      : evidence_(dir_.path(), "cases/MON-001"),
        log_(dir_ / "case.log", clock_),
        context_(info_, manifest_, evidence_, log_, clock_, clock_.Now() + absl::Seconds(30),
                 cancelled_, /*runs_in_own_process=*/false) {
    info_.id = "MON-001";
  }

  TempDir dir_;
  ManualClock clock_{absl::FromUnixSeconds(1'800'000'000)};
  CaseInfo info_;
  Manifest manifest_;
  CancellationFlag cancelled_{false};
  EvidenceRecorder evidence_;
  CaseLog log_;
  CaseContext context_;
};

TEST_F(CaseContextTest, RemainingFollowsTheClockAndNeverGoesNegative) {
  EXPECT_EQ(context_.remaining(), absl::Seconds(30));
  clock_.Advance(absl::Seconds(12));
  EXPECT_EQ(context_.remaining(), absl::Seconds(18));
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(context_.remaining(), absl::ZeroDuration());
}

TEST_F(CaseContextTest, SeesCancellation) {
  EXPECT_FALSE(context_.cancelled());
  cancelled_ = true;
  EXPECT_TRUE(context_.cancelled());
}

TEST_F(CaseContextTest, LogLinesAreTimestampedFromTheClock) {
  context_.log().Write("phase act");
  clock_.Advance(absl::Milliseconds(1500));
  context_.log().Write("reply received");
  EXPECT_EQ(ReadFile(dir_ / "case.log"),
            "2027-01-15T08:00:00.000Z  phase act\n2027-01-15T08:00:01.500Z  reply received\n");
}

TEST_F(CaseContextTest, CheckKeepsNonOkStatusesFromManyThreads) {
  context_.Check(absl::OkStatus());
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([this, i] { context_.Check(ExpectEq("value", 0, i + 1)); });
  }
  for (std::thread& t : threads) t.join();
  const std::vector<absl::Status> checks = context_.recorded_checks();
  ASSERT_EQ(checks.size(), 4u);
  for (const absl::Status& check : checks) {
    EXPECT_EQ(ClassifyPhaseStatus(check), PhaseOutcome::kFailure);
  }
}

}  // namespace
}  // namespace nsmcert::conformance
