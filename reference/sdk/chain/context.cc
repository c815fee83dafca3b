#include "reference/sdk/chain/context.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace nsmcert::sdk {

Context::Context() : Context(Clock::Real()) {}

Context::Context(Clock& clock)
    : clock_(&clock),
      cancel_(std::make_shared<CancelState>()),
      values_(std::make_shared<ValueMap>()) {}

absl::Duration Context::Remaining() const {
  if (deadline_ == absl::InfiniteFuture()) return absl::InfiniteDuration();
  return std::max(absl::ZeroDuration(), deadline_ - clock_->Now());
}

void Context::FireLocked(CancelState& state, std::unique_lock<std::mutex>& lock) {
  if (state.cancelled) return;
  state.cancelled = true;
  state.cv.notify_all();
  if (state.callbacks.empty()) return;
  auto callbacks = std::move(state.callbacks);
  state.callbacks.clear();
  state.firing = true;
  state.firing_thread = std::this_thread::get_id();
  // Outside the lock: a callback may use the context (e.g. read cancelled()).
  lock.unlock();
  for (auto& [id, callback] : callbacks) callback();
  lock.lock();
  state.firing = false;
  state.cv.notify_all();
}

void Context::Cancel() {
  std::unique_lock lock(cancel_->mu);
  FireLocked(*cancel_, lock);
}

bool Context::cancelled() const {
  std::function<bool()> probe;
  {
    std::lock_guard lock(cancel_->mu);
    if (cancel_->cancelled) return true;
    probe = cancel_->probe;
  }
  if (probe && probe()) {
    std::unique_lock lock(cancel_->mu);
    FireLocked(*cancel_, lock);
    return true;
  }
  return false;
}

bool Context::has_cancel_probe() const {
  std::lock_guard lock(cancel_->mu);
  return cancel_->probe != nullptr;
}

Context::CancelRegistration Context::OnCancel(std::function<void()> callback) const {
  if (!cancelled()) {
    std::lock_guard lock(cancel_->mu);
    if (!cancel_->cancelled) {
      uint64_t id = cancel_->next_id++;
      cancel_->callbacks.emplace(id, std::move(callback));
      return CancelRegistration(cancel_, id);
    }
  }
  callback();
  return CancelRegistration();
}

Context::CancelRegistration::CancelRegistration(CancelRegistration&& other) noexcept
    : state_(std::move(other.state_)), id_(other.id_) {
  other.state_ = nullptr;
}

Context::CancelRegistration& Context::CancelRegistration::operator=(
    CancelRegistration&& other) noexcept {
  if (this != &other) {
    Reset();
    state_ = std::move(other.state_);
    other.state_ = nullptr;
    id_ = other.id_;
  }
  return *this;
}

Context::CancelRegistration::~CancelRegistration() { Reset(); }

void Context::CancelRegistration::Reset() {
  if (state_ == nullptr) return;
  std::shared_ptr<CancelState> state = std::move(state_);
  state_ = nullptr;
  std::unique_lock lock(state->mu);
  if (state->callbacks.erase(id_) > 0) return;  // not run, and now it never will
  // Taken for running: wait until it returned, unless this is the thread running it.
  if (state->firing_thread == std::this_thread::get_id()) return;
  state->cv.wait(lock, [&] { return !state->firing; });
}

void Context::set_cancel_probe(std::function<bool()> probe) {
  std::lock_guard lock(cancel_->mu);
  cancel_->probe = std::move(probe);
}

bool Context::WaitCancelled(absl::Duration timeout) const {
  // A probe cannot signal the condition variable, so with one it is polled at a short interval;
  // without one, Cancel() wakes the wait and nothing needs polling.
  constexpr absl::Duration kProbeInterval = absl::Milliseconds(50);
  absl::Time until = absl::Now() + timeout;
  for (;;) {
    if (cancelled()) return true;
    absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    std::unique_lock lock(cancel_->mu);
    // (Capped so that a huge timeout cannot overflow the condition variable's clock arithmetic.)
    absl::Duration step = std::min(left, cancel_->probe ? kProbeInterval : absl::Hours(1));
    cancel_->cv.wait_for(lock, absl::ToChronoNanoseconds(step), [&] { return cancel_->cancelled; });
  }
}

std::string Context::IncomingValue(const std::string& key) const {
  auto [begin, end] = incoming_.equal_range(key);
  if (begin == end || std::next(begin) != end) return "";
  return begin->second;
}

Context Context::Detached() const {
  Context c(*clock_);
  c.server_metadata_ = server_metadata_;
  c.client_metadata_ = client_metadata_;
  c.peer_identity_ = peer_identity_;
  return c;
}

}  // namespace nsmcert::sdk
