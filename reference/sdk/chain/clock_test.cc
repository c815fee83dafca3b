#include "reference/sdk/chain/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/time/clock.h"

namespace nsmcert::sdk {
namespace {

TEST(FakeClock, AdvanceRunsDueTimersInDueOrder) {
  FakeClock clock;
  std::vector<int> fired;
  auto t2 = clock.AfterFunc(absl::Seconds(2), [&] { fired.push_back(2); });
  auto t1 = clock.AfterFunc(absl::Seconds(1), [&] { fired.push_back(1); });
  auto t3 = clock.AfterFunc(absl::Seconds(3), [&] { fired.push_back(3); });
  clock.Advance(absl::Milliseconds(2500));
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_EQ(clock.PendingTimers(), 1);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 3}));
}

TEST(FakeClock, StopPreventsTheCallbackOnce) {
  FakeClock clock;
  int fired = 0;
  auto t = clock.AfterFunc(absl::Seconds(1), [&] { ++fired; });
  EXPECT_TRUE(t->Stop());
  EXPECT_FALSE(t->Stop());
  clock.Advance(absl::Seconds(2));
  EXPECT_EQ(fired, 0);
  auto t2 = clock.AfterFunc(absl::Seconds(1), [&] { ++fired; });
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t2->Stop());  // already ran
}

TEST(FakeClock, TimersArmedByCallbacksRunWhenDueWithinTheSameAdvance) {
  FakeClock clock;
  std::vector<absl::Time> at;
  std::unique_ptr<Timer> second;
  auto first = clock.AfterFunc(absl::Seconds(1), [&] {
    at.push_back(clock.Now());
    second = clock.AfterFunc(absl::Seconds(1), [&] { at.push_back(clock.Now()); });
  });
  absl::Time start = clock.Now();
  clock.Advance(absl::Seconds(5));
  ASSERT_EQ(at.size(), 2u);
  EXPECT_EQ(at[0] - start, absl::Seconds(1));
  EXPECT_EQ(at[1] - start, absl::Seconds(2));
  EXPECT_EQ(clock.Now() - start, absl::Seconds(5));
}

TEST(RealClock, RunsTheCallbackAfterTheDelay) {
  std::mutex mu;
  std::condition_variable cv;
  bool fired = false;
  absl::Time start = absl::Now();
  auto t = Clock::Real().AfterFunc(absl::Milliseconds(20), [&] {
    std::lock_guard lock(mu);
    fired = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return fired; }));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
}

TEST(RealClock, StoppedTimerNeverRuns) {
  std::atomic<int> fired = 0;
  auto t = Clock::Real().AfterFunc(absl::Milliseconds(30), [&] { ++fired; });
  EXPECT_TRUE(t->Stop());
  // A later timer that does run proves the scheduler went past the stopped one.
  std::mutex mu;
  std::condition_variable cv;
  bool later = false;
  auto t2 = Clock::Real().AfterFunc(absl::Milliseconds(60), [&] {
    std::lock_guard lock(mu);
    later = true;
    cv.notify_all();
  });
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return later; }));
  EXPECT_EQ(fired.load(), 0);
}

}  // namespace
}  // namespace nsmcert::sdk
