#include "reference/forwarder/registration.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reference/sdk/daemon/self_registration.h"

namespace nsmcert::forwarder {

struct Registration::Impl : std::enable_shared_from_this<Impl> {
  Impl(RegistrationOptions o, std::shared_ptr<sdk::NseRegistryElement> r, sdk::Clock& c)
      : options(std::move(o)), registry(std::move(r)), clock(c) {}

  const RegistrationOptions options;
  const std::shared_ptr<sdk::NseRegistryElement> registry;
  sdk::Clock& clock;

  std::mutex register_mu;  // one Register/Unregister at a time; taken before `mu`
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  bool stopped = false;
  std::optional<registry::NetworkServiceEndpoint> current;
  int registrations = 0;
  std::unique_ptr<sdk::Timer> timer;        // refresh or retry
  std::unique_ptr<sdk::Timer> pause_timer;  // between watch attempts
  bool pause_over = false;
  std::shared_ptr<sdk::Context> watch_ctx;
  std::thread watch_thread;

  registry::NetworkServiceEndpoint Entry() const {
    registry::NetworkServiceEndpoint nse;
    nse.set_name(options.name);
    nse.add_network_service_names(options.network_service);
    auto& labels =
        *(*nse.mutable_network_service_labels())[options.network_service].mutable_labels();
    for (const auto& [k, v] : options.labels) labels[k] = v;
    nse.set_url(options.url);
    return nse;
  }

  sdk::Context CallContext() const {
    sdk::Context ctx(clock);
    ctx.set_deadline(clock.Now() + options.call_timeout);
    return ctx;
  }

  // Called with `mu` held.
  void ArmLocked(std::optional<absl::Duration> delay) {
    if (timer != nullptr) timer->Stop();
    timer.reset();
    if (!delay.has_value() || stopping) return;
    std::weak_ptr<Impl> weak = weak_from_this();
    timer = clock.AfterFunc(*delay, [weak] {
      if (auto self = weak.lock()) (void)self->RegisterNow();
    });
  }

  absl::Status RegisterNow() {
    std::lock_guard serial(register_mu);
    {
      std::lock_guard lock(mu);
      if (stopping) return absl::CancelledError("registration: stopped");
    }
    registry::NetworkServiceEndpoint nse = Entry();
    sdk::Context ctx = CallContext();
    absl::StatusOr<registry::NetworkServiceEndpoint> result =
        registry->Register(ctx, nse, sdk::NseRegistryNext());
    std::lock_guard lock(mu);
    if (result.ok()) {
      current = *result;
      ++registrations;
      ArmLocked(
          sdk::daemon::RegistrationRefreshDelay(*result, clock.Now(), options.retry_interval));
      return absl::OkStatus();
    }
    ArmLocked(options.retry_interval);
    return absl::Status(result.status().code(),
                        absl::StrCat("registering ", options.name, " as an endpoint of ",
                                     options.network_service, ": ", result.status().message()));
  }

  // Waits `d` on the clock, or until stopping. Returns false when stopping.
  bool Pause(absl::Duration d) {
    std::weak_ptr<Impl> weak = weak_from_this();
    std::unique_ptr<sdk::Timer> t = clock.AfterFunc(d, [weak] {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mu);
        self->pause_over = true;
        self->cv.notify_all();
      }
    });
    std::unique_lock lock(mu);
    pause_timer = std::move(t);
    cv.wait(lock, [&] { return pause_over || stopping; });
    pause_over = false;
    if (pause_timer != nullptr) pause_timer->Stop();
    pause_timer.reset();
    return !stopping;
  }

  void WatchLoop() {
    for (;;) {
      auto ctx = std::make_shared<sdk::Context>(clock);
      {
        std::lock_guard lock(mu);
        if (stopping) return;
        watch_ctx = ctx;
      }
      registry::NetworkServiceEndpointQuery query;
      query.mutable_network_service_endpoint()->set_name(options.name);
      query.set_watch(true);
      sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
          [this](const registry::NetworkServiceEndpointResponse& response) {
            if (response.deleted() && response.network_service_endpoint().name() == options.name) {
              // Someone (an expiry, a restarted registry) dropped the entry: put it back.
              (void)RegisterNow();
            }
            return absl::OkStatus();
          });
      (void)registry->Find(*ctx, query, sink, sdk::NseRegistryNext());
      {
        std::lock_guard lock(mu);
        watch_ctx.reset();
        if (stopping) return;
      }
      // The watch broke: whoever served it may have lost the entry with it.
      (void)RegisterNow();
      if (!Pause(options.retry_interval)) return;
    }
  }
};

Registration::Registration(RegistrationOptions options,
                           std::shared_ptr<sdk::NseRegistryElement> registry, sdk::Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(registry), clock)) {}

Registration::~Registration() { (void)Stop(); }

absl::Status Registration::Start() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping || impl_->watch_thread.joinable()) {
      return absl::FailedPreconditionError("registration: already started or stopped");
    }
  }
  absl::Status first = impl_->RegisterNow();
  std::lock_guard lock(impl_->mu);
  if (!impl_->stopping)
    impl_->watch_thread = std::thread([impl = impl_.get()] { impl->WatchLoop(); });
  return first;
}

absl::Status Registration::Stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return absl::OkStatus();
    impl_->stopped = true;
    impl_->stopping = true;
    if (impl_->timer != nullptr) impl_->timer->Stop();
    impl_->timer.reset();
    if (impl_->pause_timer != nullptr) impl_->pause_timer->Stop();
    if (impl_->watch_ctx != nullptr) impl_->watch_ctx->Cancel();
    impl_->cv.notify_all();
  }
  if (impl_->watch_thread.joinable()) impl_->watch_thread.join();
  std::lock_guard serial(impl_->register_mu);  // lets an in-flight Register finish first
  std::optional<registry::NetworkServiceEndpoint> registered;
  {
    std::lock_guard lock(impl_->mu);
    registered = impl_->current;
  }
  if (!registered.has_value()) return absl::OkStatus();
  sdk::Context ctx = impl_->CallContext();
  return impl_->registry->Unregister(ctx, *registered, sdk::NseRegistryNext());
}

std::optional<registry::NetworkServiceEndpoint> Registration::current() const {
  std::lock_guard lock(impl_->mu);
  return impl_->current;
}

int Registration::registrations() const {
  std::lock_guard lock(impl_->mu);
  return impl_->registrations;
}

registry::NetworkServiceEndpoint Registration::Entry() const { return impl_->Entry(); }

}  // namespace nsmcert::forwarder
