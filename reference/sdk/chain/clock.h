// Injectable time. Every element that reads the time or arms a timer takes a Clock, so tests drive
// time with FakeClock instead of sleeping.
#pragma once

#include <functional>
#include <memory>

#include "absl/time/time.h"

namespace nsmcert::sdk {

// A pending callback. Destroying a Timer does not cancel it; call Stop().
class Timer {
 public:
  virtual ~Timer() = default;
  // Cancels the callback. Returns true if it will not run because of this call; false if it already
  // ran, is running, or was stopped before.
  virtual bool Stop() = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Runs `fn` once, no earlier than `delay` from Now(). RealClock runs callbacks on its own timer
  // thread, one at a time: a callback that blocks (an RPC, say) delays the others, so long work
  // should hold a deadline. FakeClock runs them inside Advance().
  virtual std::unique_ptr<Timer> AfterFunc(absl::Duration delay, std::function<void()> fn) = 0;

  // The process-wide wall clock.
  static Clock& Real();
};

// A clock that only moves when told to. Thread-safe.
class FakeClock : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'800'000'000));
  ~FakeClock() override;

  absl::Time Now() const override;
  std::unique_ptr<Timer> AfterFunc(absl::Duration delay, std::function<void()> fn) override;

  // Moves time forward by `d`, running every callback that falls due, in due order, on the calling
  // thread (callbacks may arm new timers; those also run if they fall due within `d`).
  void Advance(absl::Duration d);
  // Number of timers armed and not yet run or stopped.
  int PendingTimers() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace nsmcert::sdk
