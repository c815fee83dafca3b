#include "reference/sdk/chain/clock.h"

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/time/clock.h"

namespace nsmcert::sdk {
namespace {

// Shared between a timer handle and the scheduler that will run it.
struct TimerEntry {
  std::function<void()> fn;
  bool done = false;  // ran, running or stopped; guarded by the owner's mutex
};

class EntryTimer : public Timer {
 public:
  EntryTimer(std::shared_ptr<std::mutex> mu, std::shared_ptr<TimerEntry> entry,
             std::shared_ptr<std::condition_variable> wake)
      : mu_(std::move(mu)), entry_(std::move(entry)), wake_(std::move(wake)) {}
  bool Stop() override {
    std::lock_guard lock(*mu_);
    if (entry_->done) return false;
    entry_->done = true;
    entry_->fn = nullptr;
    if (wake_) wake_->notify_all();
    return true;
  }

 private:
  std::shared_ptr<std::mutex> mu_;
  std::shared_ptr<TimerEntry> entry_;
  std::shared_ptr<std::condition_variable> wake_;
};

// One scheduler thread for the whole process; lives until exit (never destroyed, so timers armed
// during static destruction cannot touch a dead object).
class RealClock : public Clock {
 public:
  RealClock()
      : mu_(std::make_shared<std::mutex>()),
        wake_(std::make_shared<std::condition_variable>()),
        thread_([this] { Loop(); }) {
    thread_.detach();
  }
  absl::Time Now() const override { return absl::Now(); }
  std::unique_ptr<Timer> AfterFunc(absl::Duration delay, std::function<void()> fn) override {
    auto entry = std::make_shared<TimerEntry>();
    entry->fn = std::move(fn);
    {
      std::lock_guard lock(*mu_);
      queue_.emplace(absl::Now() + delay, entry);
    }
    wake_->notify_all();
    return std::make_unique<EntryTimer>(mu_, entry, wake_);
  }

 private:
  void Loop() {
    std::unique_lock lock(*mu_);
    for (;;) {
      while (!queue_.empty() && queue_.begin()->second->done) queue_.erase(queue_.begin());
      if (queue_.empty()) {
        wake_->wait(lock);
        continue;
      }
      absl::Time due = queue_.begin()->first;
      absl::Time now = absl::Now();
      if (due > now) {
        wake_->wait_for(lock, absl::ToChronoNanoseconds(due - now));
        continue;
      }
      auto entry = queue_.begin()->second;
      queue_.erase(queue_.begin());
      entry->done = true;
      auto fn = std::move(entry->fn);
      lock.unlock();
      if (fn) fn();
      lock.lock();
    }
  }

  std::shared_ptr<std::mutex> mu_;
  std::shared_ptr<std::condition_variable> wake_;
  std::multimap<absl::Time, std::shared_ptr<TimerEntry>> queue_;
  std::thread thread_;
};

}  // namespace

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();  // intentionally leaked, see RealClock
  return *clock;
}

struct FakeClock::State {
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  absl::Time now;
  std::multimap<absl::Time, std::shared_ptr<TimerEntry>> queue;
};

FakeClock::FakeClock(absl::Time start) : state_(std::make_shared<State>()) { state_->now = start; }

FakeClock::~FakeClock() = default;

absl::Time FakeClock::Now() const {
  std::lock_guard lock(*state_->mu);
  return state_->now;
}

std::unique_ptr<Timer> FakeClock::AfterFunc(absl::Duration delay, std::function<void()> fn) {
  auto entry = std::make_shared<TimerEntry>();
  entry->fn = std::move(fn);
  std::lock_guard lock(*state_->mu);
  state_->queue.emplace(state_->now + delay, entry);
  return std::make_unique<EntryTimer>(state_->mu, entry, nullptr);
}

void FakeClock::Advance(absl::Duration d) {
  absl::Time target;
  {
    std::lock_guard lock(*state_->mu);
    target = state_->now + d;
  }
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(*state_->mu);
      auto& q = state_->queue;
      while (!q.empty() && q.begin()->second->done) q.erase(q.begin());
      if (q.empty() || q.begin()->first > target) {
        state_->now = target;
        return;
      }
      state_->now = std::max(state_->now, q.begin()->first);
      auto entry = q.begin()->second;
      q.erase(q.begin());
      entry->done = true;
      fn = std::move(entry->fn);
    }
    if (fn) fn();
  }
}

int FakeClock::PendingTimers() const {
  std::lock_guard lock(*state_->mu);
  int n = 0;
  for (const auto& [due, entry] : state_->queue) n += entry->done ? 0 : 1;
  return n;
}

}  // namespace nsmcert::sdk
