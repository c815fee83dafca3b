#include "reference/sdk/chain/subcall_deadline.h"

#include <gtest/gtest.h>

namespace nsmcert::sdk {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
const absl::Duration kFloor = absl::Milliseconds(750);

TEST(SubcallDeadline, AThirdOfALongBudget) {
  EXPECT_EQ(SubcallDeadline(kNow, kNow + absl::Seconds(120), kFloor), kNow + absl::Seconds(40));
}

TEST(SubcallDeadline, AtLeastTheFloorButNeverPastTheCall) {
  EXPECT_EQ(SubcallDeadline(kNow, kNow + absl::Seconds(1), kFloor), kNow + kFloor);
  EXPECT_EQ(SubcallDeadline(kNow, kNow + absl::Milliseconds(500), kFloor),
            kNow + absl::Milliseconds(500));
  EXPECT_EQ(SubcallDeadline(kNow, kNow - absl::Seconds(1), kFloor), kNow);
}

TEST(SubcallDeadline, WithoutACallDeadlineTheFloor) {
  EXPECT_EQ(SubcallDeadline(kNow, absl::InfiniteFuture(), kFloor), kNow + kFloor);
}

TEST(SubcallDeadline, AZeroFloorKeepsTheCallsDeadline) {
  EXPECT_EQ(SubcallDeadline(kNow, kNow + absl::Seconds(9), absl::ZeroDuration()),
            kNow + absl::Seconds(9));
  EXPECT_EQ(SubcallDeadline(kNow, absl::InfiniteFuture(), absl::ZeroDuration()),
            absl::InfiniteFuture());
}

TEST(SubcallDeadline, FromAContext) {
  FakeClock clock(kNow);
  Context ctx(clock);
  ctx.set_deadline(kNow + absl::Seconds(30));
  EXPECT_EQ(SubcallDeadline(ctx, kFloor), kNow + absl::Seconds(10));
}

}  // namespace
}  // namespace nsmcert::sdk
