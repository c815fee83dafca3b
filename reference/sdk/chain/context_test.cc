#include "reference/sdk/chain/context.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

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

TEST(Context, OnCancelFiresOnceOnCancelAndIsSharedByCopies) {
  Context ctx;
  Context copy = ctx;
  int fired = 0;
  auto registration = copy.OnCancel([&] { ++fired; });
  EXPECT_EQ(fired, 0);
  ctx.Cancel();
  EXPECT_EQ(fired, 1);
  ctx.Cancel();
  copy.Cancel();
  EXPECT_EQ(fired, 1);
}

TEST(Context, OnCancelFiresAtOnceWhenAlreadyCancelled) {
  Context ctx;
  ctx.Cancel();
  bool fired = false;
  auto registration = ctx.OnCancel([&] { fired = true; });
  EXPECT_TRUE(fired);
}

TEST(Context, DestroyedRegistrationNeverFires) {
  Context ctx;
  bool fired = false;
  {
    auto registration = ctx.OnCancel([&] { fired = true; });
  }
  Context::CancelRegistration moved_over = ctx.OnCancel([&] { fired = true; });
  moved_over = Context::CancelRegistration();
  ctx.Cancel();
  EXPECT_FALSE(fired);
  EXPECT_FALSE(ctx.Detached().cancelled());
}

TEST(Context, OnCancelFiresWhenTheProbeIsSeenTrue) {
  Context ctx;
  std::atomic<bool> gone = false;
  ctx.set_cancel_probe([&] { return gone.load(); });
  EXPECT_TRUE(ctx.has_cancel_probe());
  EXPECT_FALSE(Context().has_cancel_probe());
  bool fired = false;
  auto registration = ctx.OnCancel([&] { fired = true; });
  gone = true;
  EXPECT_FALSE(fired);  // nothing polls the probe on its own
  EXPECT_TRUE(ctx.cancelled());
  EXPECT_TRUE(fired);
}

TEST(Context, UnregisteringWaitsForACallbackRunningOnAnotherThread) {
  Context ctx;
  std::atomic<bool> entered = false;
  std::atomic<bool> release = false;
  std::atomic<bool> returned = false;
  auto registration = std::make_unique<Context::CancelRegistration>(ctx.OnCancel([&] {
    entered = true;
    while (!release) std::this_thread::yield();
    returned = true;
  }));
  std::thread canceller([&] { ctx.Cancel(); });
  while (!entered) std::this_thread::yield();
  std::thread releaser([&] {
    absl::SleepFor(absl::Milliseconds(20));
    release = true;
  });
  registration.reset();
  EXPECT_TRUE(returned);  // the callback was done before the registration was gone
  canceller.join();
  releaser.join();
}

TEST(Context, ManyRegistrationsFromManyThreads) {
  Context ctx;
  std::atomic<int> fired = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        auto registration = ctx.OnCancel([&] { ++fired; });
        if (t == 0 && i == 100) ctx.Cancel();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_TRUE(ctx.cancelled());
  EXPECT_GE(fired.load(), 1);
  bool late = false;
  auto registration = ctx.OnCancel([&] { late = true; });
  EXPECT_TRUE(late);
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
