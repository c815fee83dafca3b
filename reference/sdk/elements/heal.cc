#include "reference/sdk/elements/heal.h"

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {

struct Heal::Impl : std::enable_shared_from_this<Heal::Impl> {
  struct Watcher {
    std::unique_ptr<ConnectionEventStream> stream;
    std::thread thread;
    std::atomic<bool> stopped{false};
    void StopAndJoin() {
      stopped = true;
      stream->Cancel();
      if (thread.joinable()) thread.join();
    }
  };

  // A heal attempt waiting on the clock. Kept apart from the watcher: a reselect's Close stops the
  // watcher, and the attempt must outlive that when the reselect's Request fails.
  struct Pending {
    std::unique_ptr<Timer> timer;
    std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);
  };

  Impl(ConnectionEventStreamOpener open, HealOptions options)
      : open(std::move(open)), options(std::move(options)) {}

  // Runs on the monitor thread: waits for a break, then hands the reaction to the clock.
  void Watch(std::shared_ptr<Watcher> watcher, Clock* clock, std::weak_ptr<EventFactory> factory,
             connection::Connection conn) {
    bool broke = false;
    while (!broke) {
      auto event = watcher->stream->Next();
      if (!event.ok()) {
        broke = event.status().code() != absl::StatusCode::kCancelled && !watcher->stopped;
        if (!broke) return;
        break;
      }
      // The selector names our segment, so an initial transfer without any connection means the
      // next hop no longer holds ours.
      if (event->type() == connection::INITIAL_STATE_TRANSFER && event->connections().empty()) {
        broke = true;
      }
      for (const auto& [id, c] : event->connections()) {
        if (event->type() == connection::DELETE || c.state() == connection::DOWN) broke = true;
      }
    }
    // A watcher stopped meanwhile belongs to a connection that was closed or requested anew.
    std::lock_guard lock(mu);
    if (watcher->stopped) return;
    ScheduleLocked(clock, factory, conn, absl::ZeroDuration(), /*reselect=*/false);
  }

  // Arms the next attempt for `conn`, replacing any pending one. `reselect` forces a reselect;
  // otherwise the liveness probe decides. Nothing is armed once the connection was closed.
  void ScheduleLocked(Clock* clock, std::weak_ptr<EventFactory> factory,
                      const connection::Connection& conn, absl::Duration delay, bool reselect) {
    if (destroyed) return;
    auto& slot = pending[conn.id()];
    if (slot != nullptr) {
      slot->cancelled->store(true);
      slot->timer->Stop();  // never waits: safe from inside that timer's own callback
    }
    slot = std::make_shared<Pending>();
    std::weak_ptr<Impl> weak_impl = weak_from_this();
    slot->timer = clock->AfterFunc(
        delay, [weak_impl, clock, factory, conn, reselect, cancelled = slot->cancelled] {
          if (cancelled->load()) return;
          auto impl = weak_impl.lock();
          auto f = factory.lock();
          if (impl == nullptr || f == nullptr) return;
          impl->Attempt(clock, f, conn, reselect, cancelled);
        });
  }

  void Attempt(Clock* clock, const std::shared_ptr<EventFactory>& factory,
               const connection::Connection& conn, bool reselect,
               const std::shared_ptr<std::atomic<bool>>& cancelled) {
    ++attempts;
    EventOptions event;
    event.reselect = reselect || !(options.liveness && options.liveness(conn));
    // Success passes this element's Request, which clears the pending attempt and watches anew.
    // A failed reselect that reached this element has armed the next try already; re-arm here
    // too for failures before it (both replace the same slot, so one try stays pending).
    if (factory->Request(event).ok()) return;
    std::lock_guard lock(mu);
    if (cancelled->load()) return;  // closed meanwhile, or a newer attempt took over
    ScheduleLocked(clock, factory, conn, options.retry_interval, event.reselect);
  }

  void CancelPending(const std::string& id) {
    std::lock_guard lock(mu);
    auto it = pending.find(id);
    if (it == pending.end()) return;
    it->second->cancelled->store(true);
    it->second->timer->Stop();
    pending.erase(it);
  }

  // Detaches the watcher of `id` and stops it. Never called on that watcher's own thread: attempts
  // run on the clock.
  void StopWatching(const std::string& id) {
    std::shared_ptr<Watcher> watcher;
    {
      std::lock_guard lock(mu);
      auto it = watchers.find(id);
      if (it == watchers.end()) return;
      watcher = std::move(it->second);
      watchers.erase(it);
      watcher->stopped = true;
    }
    watcher->StopAndJoin();
  }

  ConnectionEventStreamOpener open;
  const HealOptions options;
  std::atomic<int> attempts{0};
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Watcher>> watchers;
  std::map<std::string, std::shared_ptr<Pending>> pending;
  bool destroyed = false;  // guarded by mu
};

Heal::Heal(ConnectionEventStreamOpener open, HealOptions options)
    : impl_(std::make_shared<Impl>(std::move(open), std::move(options))) {}

Heal::~Heal() {
  std::map<std::string, std::shared_ptr<Impl::Watcher>> all;
  {
    std::lock_guard lock(impl_->mu);
    impl_->destroyed = true;
    all.swap(impl_->watchers);
    for (auto& [id, watcher] : all) watcher->stopped = true;
    for (auto& [id, pending] : impl_->pending) {
      pending->cancelled->store(true);
      pending->timer->Stop();
    }
    impl_->pending.clear();
  }
  for (auto& [id, watcher] : all) watcher->StopAndJoin();
}

absl::StatusOr<connection::Connection> Heal::Request(Context& ctx,
                                                     networkservice::NetworkServiceRequest& request,
                                                     const NetworkServiceNext& next) {
  const bool reselecting = ctx.values().Get<Reselecting>() != nullptr;
  const std::string id = request.connection().id();
  auto conn = next.Request(ctx, request);
  std::weak_ptr<EventFactory> factory = EventFactory::FromContext(ctx);
  if (!conn.ok()) {
    // Whoever started the reselect (this element, the data path monitor), its Close stopped the
    // watcher: without a retry here the connection would stay broken.
    if (reselecting && !factory.expired()) {
      std::lock_guard lock(impl_->mu);
      impl_->ScheduleLocked(&ctx.clock(), factory, request.connection(),
                            impl_->options.retry_interval,
                            /*reselect=*/true);
    }
    return conn;
  }
  impl_->CancelPending(id);
  auto url = ctx.values().Get<ClientUrl>();
  const auto& path = conn->path();
  if (url == nullptr || url->url.empty() || factory.expired() ||
      path.index() >= static_cast<uint32_t>(path.path_segments_size())) {
    return conn;
  }
  // Every successful Request (first, refresh, heal) watches afresh: a refresh after a break must
  // restart monitoring.
  impl_->StopWatching(conn->id());
  connection::MonitorScopeSelector selector;
  const auto& own = path.path_segments(static_cast<int>(path.index()));
  auto* segment = selector.add_path_segments();
  segment->set_name(own.name());
  segment->set_id(own.id());
  auto stream = impl_->open(url->url, selector);
  if (!stream.ok()) {
    (void)next.Close(ctx, *conn);
    return absl::Status(stream.status().code(), absl::StrCat("heal: cannot monitor ", url->url,
                                                             ": ", stream.status().message()));
  }
  auto watcher = std::make_shared<Impl::Watcher>();
  watcher->stream = *std::move(stream);
  // The thread starts before the watcher is published, so Stop() never sees it half-made.
  watcher->thread = std::thread([impl = impl_.get(), clock = &ctx.clock(), factory, c = *conn,
                                 weak = std::weak_ptr(watcher)] {
    if (auto self = weak.lock()) impl->Watch(self, clock, factory, c);
  });
  {
    std::lock_guard lock(impl_->mu);
    impl_->watchers[conn->id()] = watcher;
  }
  return conn;
}

absl::Status Heal::Close(Context& ctx, connection::Connection& conn,
                         const NetworkServiceNext& next) {
  // A reselect's Close ends the old path only: a pending or coming retry stays.
  if (ctx.values().Get<Reselecting>() == nullptr) impl_->CancelPending(conn.id());
  impl_->StopWatching(conn.id());
  return next.Close(ctx, conn);
}

size_t Heal::watching() const {
  std::lock_guard lock(impl_->mu);
  return impl_->watchers.size();
}

int Heal::attempts() const { return impl_->attempts.load(); }

size_t Heal::pending() const {
  std::lock_guard lock(impl_->mu);
  return impl_->pending.size();
}

}  // namespace nsmcert::sdk
