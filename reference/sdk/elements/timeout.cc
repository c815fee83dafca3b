#include "reference/sdk/elements/timeout.h"

#include <atomic>

#include "absl/strings/str_cat.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/tools/path.h"

namespace nsmcert::sdk {

struct Timeout::Armed {
  std::unique_ptr<Timer> timer;
  // Set when a newer Request or a Close replaced this timer; a Close already queued behind them
  // on the connection's executor then does nothing.
  std::shared_ptr<std::atomic<bool>> stale = std::make_shared<std::atomic<bool>>(false);
};

Timeout::Timeout(TimeoutOptions options) : options_(options) {}

Timeout::~Timeout() {
  std::lock_guard lock(mu_);
  for (auto& [id, armed] : timers_) {
    armed->stale->store(true);
    armed->timer->Stop();
  }
}

absl::StatusOr<connection::Connection> Timeout::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  absl::Duration budget = ctx.Remaining();
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  auto armed = Arm(ctx, *conn, budget);
  if (!armed.ok()) {
    (void)next.Close(ctx, *conn);  // undo: nothing may stay that no timer would ever clean up
    return armed.status();
  }
  Replace(conn->id(), *std::move(armed));
  return conn;
}

absl::Status Timeout::Close(Context& ctx, connection::Connection& conn,
                            const NetworkServiceNext& next) {
  Replace(conn.id(), nullptr);
  return next.Close(ctx, conn);
}

absl::StatusOr<std::shared_ptr<Timeout::Armed>> Timeout::Arm(Context& ctx,
                                                             const connection::Connection& conn,
                                                             absl::Duration incoming_budget) {
  // Leave the caller the time its request had, so that our Close reaches the rest of the path
  // before the caller's own timer would.
  absl::Duration lead =
      incoming_budget == absl::InfiniteDuration() ? absl::ZeroDuration() : incoming_budget;
  auto delay = tools::TimeoutAfter(conn, ctx.Now(), lead);
  if (!delay.ok()) {
    return absl::Status(delay.status().code(), absl::StrCat("timeout: connection ", conn.id(), ": ",
                                                            delay.status().message()));
  }
  std::weak_ptr<EventFactory> factory = EventFactory::FromContext(ctx);
  if (factory.expired()) {
    return absl::FailedPreconditionError("timeout: no begin element runs before timeout");
  }

  auto armed = std::make_shared<Armed>();
  armed->timer = ctx.clock().AfterFunc(
      *delay, [factory, stale = armed->stale, close_budget = options_.close_budget] {
        if (stale->load()) return;
        if (auto f = factory.lock()) {
          EventOptions options;
          options.cancelled = [stale] { return stale->load(); };
          options.min_budget = close_budget;
          (void)f->Close(options);
        }
      });
  return armed;
}

void Timeout::Replace(const std::string& id, std::shared_ptr<Armed> armed) {
  std::shared_ptr<Armed> old;
  {
    std::lock_guard lock(mu_);
    auto it = timers_.find(id);
    if (it != timers_.end()) {
      old = std::move(it->second);
      timers_.erase(it);
    }
    if (armed) timers_.emplace(id, std::move(armed));
  }
  if (old) {
    old->stale->store(true);
    old->timer->Stop();
  }
}

size_t Timeout::armed() const {
  std::lock_guard lock(mu_);
  return timers_.size();
}

}  // namespace nsmcert::sdk
