#include "reference/nsc/reselect_retry.h"

#include <atomic>

#include "reference/sdk/daemon/log.h"
#include "reference/sdk/elements/begin.h"

namespace nsmcert::nsc {

struct ReselectRetry::Impl : std::enable_shared_from_this<Impl> {
  explicit Impl(absl::Duration interval) : retry_interval(interval) {}

  void Disarm(const std::string& id) {
    std::unique_ptr<sdk::Timer> timer;
    {
      std::lock_guard lock(mu);
      auto it = timers.find(id);
      if (it == timers.end()) return;
      timer = std::move(it->second);
      timers.erase(it);
    }
    timer->Stop();
  }

  void Arm(const std::string& id, sdk::Clock& clock, std::weak_ptr<sdk::EventFactory> factory) {
    std::weak_ptr<Impl> weak = weak_from_this();
    std::unique_ptr<sdk::Timer> timer = clock.AfterFunc(retry_interval, [weak, id, factory] {
      auto self = weak.lock();
      if (self == nullptr) return;
      {
        std::lock_guard lock(self->mu);
        self->timers.erase(id);
      }
      auto f = factory.lock();
      if (f == nullptr) return;
      const int retry = ++self->retries;
      if (retry % 25 == 1) {
        NSM_LOG(kWarn) << "heal " << id << ": the reselect failed, trying again every "
                       << self->retry_interval << " (retry " << retry << ")";
      }
      sdk::EventOptions reselect;
      reselect.reselect = true;
      // A failure passes Close again, which arms the next attempt.
      (void)f->Request(reselect);
    });
    std::unique_ptr<sdk::Timer> replaced;
    {
      std::lock_guard lock(mu);
      replaced = std::exchange(timers[id], std::move(timer));
    }
    if (replaced != nullptr) replaced->Stop();
  }

  const absl::Duration retry_interval;
  std::atomic<int> retries{0};
  mutable std::mutex mu;
  std::map<std::string, std::unique_ptr<sdk::Timer>> timers;
  std::set<std::string> closing;
};

ReselectRetry::ReselectRetry(absl::Duration retry_interval)
    : impl_(std::make_shared<Impl>(retry_interval)) {}

ReselectRetry::~ReselectRetry() {
  std::map<std::string, std::unique_ptr<sdk::Timer>> all;
  {
    std::lock_guard lock(impl_->mu);
    all.swap(impl_->timers);
  }
  for (auto& [id, timer] : all) timer->Stop();
}

absl::StatusOr<connection::Connection> ReselectRetry::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  {
    std::lock_guard lock(impl_->mu);
    impl_->closing.erase(request.connection().id());
  }
  impl_->Disarm(request.connection().id());
  return conn;
}

absl::Status ReselectRetry::Close(sdk::Context& ctx, connection::Connection& conn,
                                  const sdk::NetworkServiceNext& next) {
  absl::Status status = next.Close(ctx, conn);
  bool final_close = false;
  {
    std::lock_guard lock(impl_->mu);
    final_close = impl_->closing.erase(conn.id()) > 0;
  }
  std::weak_ptr<sdk::EventFactory> factory = sdk::EventFactory::FromContext(ctx);
  if (!final_close && !factory.expired()) impl_->Arm(conn.id(), ctx.clock(), factory);
  return status;
}

void ReselectRetry::ClosingByClient(const std::string& id) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->closing.insert(id);
  }
  impl_->Disarm(id);
}

size_t ReselectRetry::armed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->timers.size();
}

int ReselectRetry::retries() const { return impl_->retries.load(); }

}  // namespace nsmcert::nsc
