#include "reference/nsc/datapath_monitor.h"

#include <atomic>
#include <condition_variable>
#include <thread>

#include "reference/sdk/daemon/log.h"
#include "reference/sdk/elements/begin.h"

namespace nsmcert::nsc {

struct DataPathMonitor::Impl : std::enable_shared_from_this<Impl> {
  struct Checker {
    std::thread thread;
    std::mutex mu;
    std::condition_variable cv;
    bool stopped = false;                    // guarded by mu
    bool due = false;                        // guarded by mu
    std::unique_ptr<sdk::Timer> wait_timer;  // guarded by mu
    std::unique_ptr<sdk::Timer> reselect;    // guarded by mu
  };

  explicit Impl(DataPathMonitorOptions o) : options(std::move(o)) {}

  // Waits `interval` on the clock; false once stopped.
  bool Wait(const std::shared_ptr<Checker>& checker, sdk::Clock* clock) {
    std::weak_ptr<Checker> weak = checker;
    std::unique_ptr<sdk::Timer> timer = clock->AfterFunc(options.interval, [weak] {
      if (auto c = weak.lock()) {
        std::lock_guard lock(c->mu);
        c->due = true;
        c->cv.notify_all();
      }
    });
    std::unique_lock lock(checker->mu);
    checker->wait_timer = std::move(timer);
    checker->cv.wait(lock, [&] { return checker->due || checker->stopped; });
    checker->due = false;
    if (checker->wait_timer != nullptr) checker->wait_timer->Stop();
    checker->wait_timer.reset();
    return !checker->stopped;
  }

  // The checking thread.
  void Run(const std::shared_ptr<Checker>& checker, sdk::Clock* clock,
           const std::weak_ptr<sdk::EventFactory>& factory, const connection::Connection& conn) {
    while (Wait(checker, clock)) {
      if (options.liveness(conn)) continue;
      ++failures;
      NSM_LOG(kWarn) << "heal " << conn.id() << ": the data path stopped answering, reselecting";
      std::lock_guard lock(checker->mu);
      if (checker->stopped) return;
      // On the clock: the reselect's Close stops (and joins) this thread.
      checker->reselect = clock->AfterFunc(absl::ZeroDuration(), [factory] {
        sdk::EventOptions reselect;
        reselect.reselect = true;
        if (auto f = factory.lock()) (void)f->Request(reselect);
      });
      return;
    }
  }

  // Detaches and stops the checker of `id`. Never called on that checker's thread.
  void Stop(const std::string& id) {
    std::shared_ptr<Checker> checker;
    {
      std::lock_guard lock(mu);
      auto it = checkers.find(id);
      if (it == checkers.end()) return;
      checker = std::move(it->second);
      checkers.erase(it);
    }
    StopChecker(*checker);
  }

  static void StopChecker(Checker& checker) {
    {
      std::lock_guard lock(checker.mu);
      checker.stopped = true;
      if (checker.wait_timer != nullptr) checker.wait_timer->Stop();
      // A pending reselect stays armed: it is what the check decided, and it only acts while
      // the connection is still established.
      checker.cv.notify_all();
    }
    if (checker.thread.joinable()) checker.thread.join();
  }

  const DataPathMonitorOptions options;
  std::atomic<int> failures{0};
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Checker>> checkers;
};

DataPathMonitor::DataPathMonitor(DataPathMonitorOptions options)
    : impl_(std::make_shared<Impl>(std::move(options))) {}

DataPathMonitor::~DataPathMonitor() {
  std::map<std::string, std::shared_ptr<Impl::Checker>> all;
  {
    std::lock_guard lock(impl_->mu);
    all.swap(impl_->checkers);
  }
  for (auto& [id, checker] : all) {
    Impl::StopChecker(*checker);
    std::lock_guard lock(checker->mu);
    if (checker->reselect != nullptr) checker->reselect->Stop();
  }
}

absl::StatusOr<connection::Connection> DataPathMonitor::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  std::weak_ptr<sdk::EventFactory> factory = sdk::EventFactory::FromContext(ctx);
  if (!impl_->options.liveness || factory.expired()) return conn;
  // Every successful Request checks the path it returned.
  impl_->Stop(conn->id());
  auto checker = std::make_shared<Impl::Checker>();
  // The thread starts before the checker is published, so Stop() never sees it half-made.
  checker->thread = std::thread([impl = impl_.get(), clock = &ctx.clock(), factory, c = *conn,
                                 weak = std::weak_ptr(checker)] {
    if (auto self = weak.lock()) impl->Run(self, clock, factory, c);
  });
  std::lock_guard lock(impl_->mu);
  impl_->checkers[conn->id()] = checker;
  return conn;
}

absl::Status DataPathMonitor::Close(sdk::Context& ctx, connection::Connection& conn,
                                    const sdk::NetworkServiceNext& next) {
  impl_->Stop(conn.id());
  return next.Close(ctx, conn);
}

size_t DataPathMonitor::checking() const {
  std::lock_guard lock(impl_->mu);
  return impl_->checkers.size();
}

int DataPathMonitor::failures() const { return impl_->failures.load(); }

}  // namespace nsmcert::nsc
