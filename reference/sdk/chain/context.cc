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

void Context::Cancel() {
  std::lock_guard lock(cancel_->mu);
  cancel_->cancelled = true;
  cancel_->cv.notify_all();
}

bool Context::cancelled() const {
  std::function<bool()> probe;
  {
    std::lock_guard lock(cancel_->mu);
    if (cancel_->cancelled) return true;
    probe = cancel_->probe;
  }
  if (probe && probe()) {
    std::lock_guard lock(cancel_->mu);
    cancel_->cancelled = true;
    cancel_->cv.notify_all();
    return true;
  }
  return false;
}

void Context::set_cancel_probe(std::function<bool()> probe) {
  std::lock_guard lock(cancel_->mu);
  cancel_->probe = std::move(probe);
}

bool Context::WaitCancelled(absl::Duration timeout) const {
  // The probe cannot signal the condition variable, so poll it at a short interval.
  constexpr absl::Duration kProbeInterval = absl::Milliseconds(50);
  absl::Time until = absl::Now() + timeout;
  for (;;) {
    if (cancelled()) return true;
    absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return false;
    std::unique_lock lock(cancel_->mu);
    cancel_->cv.wait_for(lock, absl::ToChronoNanoseconds(std::min(left, kProbeInterval)));
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
