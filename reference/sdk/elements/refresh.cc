#include "reference/sdk/elements/refresh.h"

#include <atomic>
#include <map>
#include <mutex>
#include <string>

#include "reference/sdk/elements/begin.h"
#include "reference/sdk/tools/path.h"

namespace nsmcert::sdk {

struct Refresh::Impl : std::enable_shared_from_this<Refresh::Impl> {
  struct Armed {
    std::unique_ptr<Timer> timer;
    // Set when a newer Request or a Close replaced this timer.
    std::shared_ptr<std::atomic<bool>> stale = std::make_shared<std::atomic<bool>>(false);
  };

  explicit Impl(RefreshOptions options) : options(options) {}

  // Arms a refresh of `conn` after `delay`, replacing the current timer of its id when
  // `expected` is null, or only if `expected` is still the current one.
  void Schedule(Clock& clock, const std::string& id, std::weak_ptr<EventFactory> factory,
                connection::Connection conn, absl::Duration delay,
                const std::shared_ptr<Armed>& expected) {
    auto armed = std::make_shared<Armed>();
    std::weak_ptr<Impl> weak = weak_from_this();
    Clock* clock_ptr = &clock;
    armed->timer =
        clock.AfterFunc(delay, [weak, clock_ptr, id, factory, conn,
                                armed_weak = std::weak_ptr(armed), stale = armed->stale] {
          if (stale->load()) return;
          auto f = factory.lock();
          if (f == nullptr) return;
          EventOptions options;
          options.cancelled = [stale] { return stale->load(); };
          // On success the refreshed Request passed through this element and re-armed it.
          if (f->Request(options).ok() || stale->load()) return;
          auto impl = weak.lock();
          auto self = armed_weak.lock();
          if (impl == nullptr || self == nullptr) return;
          // Retry only while the retry would still find the path alive; afterwards heal has to act.
          absl::Time retry_at = clock_ptr->Now() + impl->options.retry_interval;
          if (tools::RefreshAfter(conn, retry_at) <= absl::Nanoseconds(1)) return;
          impl->Schedule(*clock_ptr, id, factory, conn, impl->options.retry_interval, self);
        });
    std::shared_ptr<Armed> old;
    {
      std::lock_guard lock(mu);
      auto it = timers.find(id);
      if (expected != nullptr && (it == timers.end() || it->second != expected)) {
        armed->stale->store(true);
        armed->timer->Stop();
        return;
      }
      if (it != timers.end()) {
        old = std::move(it->second);
        it->second = armed;
      } else {
        timers.emplace(id, armed);
      }
    }
    if (old) Retire(*old);
  }

  void Cancel(const std::string& id) {
    std::shared_ptr<Armed> old;
    {
      std::lock_guard lock(mu);
      auto it = timers.find(id);
      if (it == timers.end()) return;
      old = std::move(it->second);
      timers.erase(it);
    }
    Retire(*old);
  }

  static void Retire(Armed& armed) {
    armed.stale->store(true);
    armed.timer->Stop();
  }

  const RefreshOptions options;
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Armed>> timers;
};

Refresh::Refresh(RefreshOptions options) : impl_(std::make_shared<Impl>(options)) {}

Refresh::~Refresh() {
  std::lock_guard lock(impl_->mu);
  for (auto& [id, armed] : impl_->timers) Impl::Retire(*armed);
}

absl::StatusOr<connection::Connection> Refresh::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  std::weak_ptr<EventFactory> factory = EventFactory::FromContext(ctx);
  if (factory.expired()) {
    (void)next.Close(ctx, *conn);
    return absl::FailedPreconditionError("refresh: no begin element runs before refresh");
  }
  impl_->Schedule(ctx.clock(), conn->id(), factory, *conn, tools::RefreshAfter(*conn, ctx.Now()),
                  nullptr);
  return conn;
}

absl::Status Refresh::Close(Context& ctx, connection::Connection& conn,
                            const NetworkServiceNext& next) {
  impl_->Cancel(conn.id());
  return next.Close(ctx, conn);
}

size_t Refresh::armed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->timers.size();
}

}  // namespace nsmcert::sdk
