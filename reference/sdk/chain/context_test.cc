#include "reference/sdk/chain/context.h"

#include <gtest/gtest.h>

#include <thread>

#include "absl/time/clock.h"

namespace nsmcert::sdk {
namespace {

TEST(Context, RemainingFollowsTheInjectedClock) {
  FakeClock clock;
  Context ctx(clock);
  EXPECT_EQ(ctx.Remaining(), absl::InfiniteDuration());
  ctx.set_deadline(clock.Now() + absl::Seconds(10));
  clock.Advance(absl::Seconds(4));
  EXPECT_EQ(ctx.Remaining(), absl::Seconds(6));
  clock.Advance(absl::Seconds(20));
  EXPECT_EQ(ctx.Remaining(), absl::ZeroDuration());
}

TEST(Context, IncomingValueIsEmptyWhenMissingOrRepeated) {
  Context ctx;
  ctx.mutable_incoming_metadata().emplace("nsm-client-token", "a");
  EXPECT_EQ(ctx.IncomingValue("nsm-client-token"), "a");
  EXPECT_EQ(ctx.IncomingValue("other"), "");
  ctx.mutable_incoming_metadata().emplace("nsm-client-token", "b");
  EXPECT_EQ(ctx.IncomingValue("nsm-client-token"), "");
}

TEST(Context, CancellationIsSharedByCopiesAndWakesWaiters) {
  Context ctx;
  Context copy = ctx;
  std::thread canceller([&] { copy.Cancel(); });
  EXPECT_TRUE(ctx.WaitCancelled(absl::Seconds(10)));
  canceller.join();
  EXPECT_TRUE(ctx.cancelled());
  EXPECT_FALSE(ctx.Detached().cancelled());
}

TEST(Context, CancelProbeIsPolled) {
  Context ctx;
  std::atomic<bool> gone = false;
  ctx.set_cancel_probe([&] { return gone.load(); });
  EXPECT_FALSE(ctx.WaitCancelled(absl::Milliseconds(10)));
  gone = true;
  EXPECT_TRUE(ctx.WaitCancelled(absl::Seconds(10)));
}

struct Counter {
  int n = 0;
};

TEST(Context, TypedValuesAndConnectionMetadata) {
  Context ctx;
  EXPECT_EQ(ctx.values().Get<Counter>(), nullptr);
  ctx.values().GetOrCreate<Counter>()->n = 3;
  EXPECT_EQ(ctx.values().Get<Counter>()->n, 3);
  auto server = std::make_shared<ValueMap>();
  ctx.set_connection_metadata(false, server);
  EXPECT_EQ(ctx.connection_metadata(false), server);
  EXPECT_EQ(ctx.connection_metadata(true), nullptr);
  Context detached = ctx.Detached();
  EXPECT_EQ(detached.connection_metadata(false), server);
  EXPECT_EQ(detached.values().Get<Counter>(), nullptr);
}

}  // namespace
}  // namespace nsmcert::sdk
