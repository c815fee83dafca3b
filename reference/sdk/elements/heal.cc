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
    std::unique_ptr<Timer> retry;  // guarded by Impl::mu
    void StopAndJoin() {
      stopped = true;
      stream->Cancel();
      if (thread.joinable()) thread.join();
    }
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
    ScheduleAttempt(watcher, clock, factory, conn, absl::ZeroDuration());
  }

  void ScheduleAttempt(const std::shared_ptr<Watcher>& watcher, Clock* clock,
                       std::weak_ptr<EventFactory> factory, connection::Connection conn,
                       absl::Duration delay) {
    std::weak_ptr<Impl> weak_impl = weak_from_this();
    std::weak_ptr<Watcher> weak_watcher = watcher;
    std::lock_guard lock(mu);
    if (watcher->stopped) return;
    watcher->retry = clock->AfterFunc(delay, [weak_impl, weak_watcher, clock, factory, conn] {
      auto impl = weak_impl.lock();
      auto watcher = weak_watcher.lock();
      auto f = factory.lock();
      if (impl == nullptr || watcher == nullptr || f == nullptr || watcher->stopped) return;
      impl->Attempt(watcher, clock, f, conn);
    });
  }

  void Attempt(const std::shared_ptr<Watcher>& watcher, Clock* clock,
               const std::shared_ptr<EventFactory>& factory, const connection::Connection& conn) {
    ++attempts;
    EventOptions event;
    event.reselect = !(options.liveness && options.liveness(conn));
    // A successful Request passes through this element again and starts a new watcher (stopping
    // this one); only a failure needs another try.
    if (factory->Request(event).ok()) return;
    ScheduleAttempt(watcher, clock, factory, conn, options.retry_interval);
  }

  // Detaches the watcher of `id` and stops it. Never called on that watcher's own thread: attempts
  // run on the clock.
  void Stop(const std::string& id) {
    std::shared_ptr<Watcher> watcher;
    {
      std::lock_guard lock(mu);
      auto it = watchers.find(id);
      if (it == watchers.end()) return;
      watcher = std::move(it->second);
      watchers.erase(it);
      watcher->stopped = true;
      if (watcher->retry) watcher->retry->Stop();
    }
    watcher->StopAndJoin();
  }

  ConnectionEventStreamOpener open;
  const HealOptions options;
  std::atomic<int> attempts{0};
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Watcher>> watchers;
};

Heal::Heal(ConnectionEventStreamOpener open, HealOptions options)
    : impl_(std::make_shared<Impl>(std::move(open), std::move(options))) {}

Heal::~Heal() {
  std::map<std::string, std::shared_ptr<Impl::Watcher>> all;
  {
    std::lock_guard lock(impl_->mu);
    all.swap(impl_->watchers);
    for (auto& [id, watcher] : all) {
      watcher->stopped = true;
      if (watcher->retry) watcher->retry->Stop();
    }
  }
  for (auto& [id, watcher] : all) watcher->StopAndJoin();
}

absl::StatusOr<connection::Connection> Heal::Request(Context& ctx,
                                                     networkservice::NetworkServiceRequest& request,
                                                     const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  auto url = ctx.values().Get<ClientUrl>();
  std::weak_ptr<EventFactory> factory = EventFactory::FromContext(ctx);
  const auto& path = conn->path();
  if (url == nullptr || url->url.empty() || factory.expired() ||
      path.index() >= static_cast<uint32_t>(path.path_segments_size())) {
    return conn;
  }
  // Every successful Request (first, refresh, heal) watches afresh: a refresh after a break must
  // restart monitoring.
  impl_->Stop(conn->id());
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
  impl_->Stop(conn.id());
  return next.Close(ctx, conn);
}

size_t Heal::watching() const {
  std::lock_guard lock(impl_->mu);
  return impl_->watchers.size();
}

int Heal::attempts() const { return impl_->attempts.load(); }

}  // namespace nsmcert::sdk
