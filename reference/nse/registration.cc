#include "reference/nse/registration.h"

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/daemon/self_registration.h"

namespace nsmcert::nse {

struct Registration::Impl : std::enable_shared_from_this<Impl> {
  Impl(RegistrationOptions o, std::shared_ptr<sdk::NsRegistryElement> ns,
       std::shared_ptr<sdk::NseRegistryElement> nse, sdk::Clock& c)
      : options(std::move(o)), ns_registry(std::move(ns)), nse_registry(std::move(nse)), clock(c) {}

  const RegistrationOptions options;
  const std::shared_ptr<sdk::NsRegistryElement> ns_registry;
  const std::shared_ptr<sdk::NseRegistryElement> nse_registry;
  sdk::Clock& clock;

  // One registry round or call at a time (the keeper thread and the refresh timer both register).
  // Taken before `mu`, never while holding it.
  std::mutex call_mu;
  mutable std::mutex mu;
  std::condition_variable cv;
  bool started = false;
  bool stopping = false;
  std::optional<registry::NetworkServiceEndpoint> current;
  int registrations = 0;
  int heals = 0;
  int failed_refreshes = 0;                         // guarded by call_mu
  std::set<std::string> reported_foreign_services;  // guarded by call_mu
  std::unique_ptr<sdk::Timer> refresh_timer;
  std::unique_ptr<sdk::Timer> pause_timer;
  std::shared_ptr<sdk::Context> watch_ctx;
  std::thread keeper;

  registry::NetworkServiceEndpoint Entry() const {
    registry::NetworkServiceEndpoint nse;
    nse.set_name(options.name);
    for (const std::string& service : options.services) {
      nse.add_network_service_names(service);
      auto& labels = *(*nse.mutable_network_service_labels())[service].mutable_labels();
      for (const auto& [key, value] : options.labels) labels[key] = value;
      sdk::tools::AddClientInfo(labels, options.env);
    }
    nse.set_url(options.url);
    return nse;
  }

  std::vector<registry::NetworkService> Services() const {
    std::vector<registry::NetworkService> services;
    for (const std::string& name : options.services) {
      registry::NetworkService ns;
      ns.set_name(name);
      ns.set_payload(options.payload);
      services.push_back(std::move(ns));
    }
    return services;
  }

  absl::Status Validate() const {
    if (options.name.empty()) return absl::InvalidArgumentError("registration: name is empty");
    if (options.url.empty()) return absl::InvalidArgumentError("registration: url is empty");
    if (options.services.empty()) {
      return absl::InvalidArgumentError("registration: no network service names");
    }
    return absl::OkStatus();
  }

  bool Stopping() const {
    std::lock_guard lock(mu);
    return stopping;
  }

  sdk::Context CallContext() const {
    sdk::Context ctx(clock);
    ctx.set_deadline(clock.Now() + options.call_timeout);
    return ctx;
  }

  // With `mu` held. Replaces the pending refresh.
  void ArmRefreshLocked(std::optional<absl::Duration> delay) {
    if (refresh_timer != nullptr) refresh_timer->Stop();
    refresh_timer.reset();
    if (!delay.has_value() || stopping) return;
    std::weak_ptr<Impl> weak = weak_from_this();
    refresh_timer = clock.AfterFunc(*delay, [weak] {
      if (auto self = weak.lock()) self->Refresh();
    });
  }

  // With `call_mu` held.
  absl::Status RegisterEndpoint() {
    registry::NetworkServiceEndpoint nse;
    {
      std::lock_guard lock(mu);
      if (stopping) return absl::CancelledError("registration: stopped");
      if (current.has_value()) {
        // A refresh or a heal sends what the registry returned, minus the expiration.
        nse = *current;
        nse.clear_expiration_time();
        nse.set_name(options.name);
        nse.set_url(options.url);
      } else {
        nse = Entry();
      }
    }
    sdk::Context ctx = CallContext();
    absl::StatusOr<registry::NetworkServiceEndpoint> result =
        nse_registry->Register(ctx, nse, sdk::NseRegistryNext());
    if (!result.ok()) {
      return absl::Status(
          result.status().code(),
          absl::StrCat("registering endpoint ", options.name, ": ", result.status().message()));
    }
    std::lock_guard lock(mu);
    current = *result;
    ++registrations;
    ArmRefreshLocked(
        sdk::daemon::RegistrationRefreshDelay(*result, clock.Now(), options.retry_interval));
    return absl::OkStatus();
  }

  // With `call_mu` held: the network services, then the endpoint.
  absl::Status RegisterRound() {
    if (options.register_services) {
      for (registry::NetworkService ns : Services()) {
        if (Stopping()) return absl::CancelledError("registration: stopped");
        sdk::Context ctx = CallContext();
        absl::StatusOr<registry::NetworkService> result =
            ns_registry->Register(ctx, ns, sdk::NsRegistryNext());
        if (result.status().code() == absl::StatusCode::kPermissionDenied) {
          // The service is there, registered by another endpoint's identity (spec §8.6: only its
          // first registrant may change it). Offering it too is what endpoints of one service do.
          if (!reported_foreign_services.contains(ns.name())) {
            reported_foreign_services.insert(ns.name());
            NSM_LOG(kInfo) << "network service " << ns.name()
                           << " is registered by another identity; offering it as it is ("
                           << result.status().message() << ")";
          }
          continue;
        }
        if (!result.ok()) {
          return absl::Status(result.status().code(),
                              absl::StrCat("registering network service ", ns.name(), ": ",
                                           result.status().message()));
        }
      }
    }
    return RegisterEndpoint();
  }

  void Refresh() {
    std::lock_guard serial(call_mu);
    absl::Status status = RegisterEndpoint();
    if (status.ok()) {
      failed_refreshes = 0;
      return;
    }
    if (Stopping()) return;
    // The first failure and then every 20th: an nsmgr that is away for a while must not flood.
    if (failed_refreshes++ % 20 == 0) {
      NSM_LOG(kWarn) << "refresh failed (" << failed_refreshes << " in a row), retrying every "
                     << options.retry_interval << ": " << status;
    }
    std::lock_guard lock(mu);
    ArmRefreshLocked(options.retry_interval);
  }

  // Waits `d` on the clock, or until stopping. False when stopping.
  bool Pause(absl::Duration d) {
    auto due = std::make_shared<bool>(false);
    std::weak_ptr<Impl> weak = weak_from_this();
    std::unique_ptr<sdk::Timer> timer = clock.AfterFunc(d, [weak, due] {
      if (auto self = weak.lock()) {
        std::lock_guard lock(self->mu);
        *due = true;
        self->cv.notify_all();
      }
    });
    std::unique_lock lock(mu);
    pause_timer = std::move(timer);
    cv.wait(lock, [&] { return *due || stopping; });
    if (pause_timer != nullptr) pause_timer->Stop();
    pause_timer.reset();
    return !stopping;
  }

  // Follows the endpoint's own entry until the watch breaks; returns why it ended.
  absl::Status Watch() {
    auto ctx = std::make_shared<sdk::Context>(clock);
    {
      std::lock_guard lock(mu);
      if (stopping) return absl::CancelledError("registration: stopped");
      watch_ctx = ctx;
    }
    registry::NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_name(options.name);
    query.set_watch(true);
    sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
        [this](const registry::NetworkServiceEndpointResponse& response) {
          if (response.deleted() && response.network_service_endpoint().name() == options.name) {
            // Expired or removed behind our back: ending the watch registers it again.
            return absl::NotFoundError("the registry deleted the entry");
          }
          return absl::OkStatus();
        });
    absl::Status status = nse_registry->Find(*ctx, query, sink, sdk::NseRegistryNext());
    {
      std::lock_guard lock(mu);
      watch_ctx.reset();
    }
    if (status.ok()) status = absl::UnavailableError("the watch ended");
    return status;
  }

  // The keeper thread: registration rounds until one works, then the watch; again when it breaks.
  void Keep(bool registered) {
    int failed_rounds = 0;
    for (;;) {
      while (!registered) {
        absl::Status status;
        {
          std::lock_guard serial(call_mu);
          status = RegisterRound();
        }
        if (status.ok()) {
          NSM_LOG(kInfo) << "registered endpoint " << options.name << " at " << options.url;
          failed_rounds = 0;
          break;
        }
        if (Stopping()) return;
        if (failed_rounds++ % 20 == 0) {
          NSM_LOG(kWarn) << status << " (" << failed_rounds << " in a row); retrying every "
                         << options.retry_interval;
        }
        if (!Pause(options.retry_interval)) return;
      }
      absl::Status why = Watch();
      if (Stopping()) return;
      {
        std::lock_guard lock(mu);
        ++heals;
      }
      NSM_LOG(kWarn) << "watch on endpoint " << options.name << " ended (" << why
                     << "); registering again";
      registered = false;
      if (!Pause(options.retry_interval)) return;
    }
  }
};

Registration::Registration(RegistrationOptions options,
                           std::shared_ptr<sdk::NsRegistryElement> ns_registry,
                           std::shared_ptr<sdk::NseRegistryElement> nse_registry, sdk::Clock& clock)
    : impl_(std::make_shared<Impl>(std::move(options), std::move(ns_registry),
                                   std::move(nse_registry), clock)) {}

Registration::~Registration() { (void)Stop(); }

absl::Status Registration::Start() {
  if (absl::Status valid = impl_->Validate(); !valid.ok()) return valid;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->started || impl_->stopping) {
      return absl::FailedPreconditionError("registration: already started or stopped");
    }
    impl_->started = true;
  }
  absl::Status first;
  {
    std::lock_guard serial(impl_->call_mu);
    first = impl_->RegisterRound();
  }
  std::lock_guard lock(impl_->mu);
  if (!impl_->stopping) {
    impl_->keeper = std::thread([self = impl_, ok = first.ok()] { self->Keep(ok); });
  }
  return first;
}

absl::Status Registration::Stop() {
  std::shared_ptr<sdk::Context> watch;
  std::thread keeper;
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) return absl::OkStatus();
    impl_->stopping = true;
    if (impl_->refresh_timer != nullptr) impl_->refresh_timer->Stop();
    impl_->refresh_timer.reset();
    if (impl_->pause_timer != nullptr) impl_->pause_timer->Stop();
    watch = impl_->watch_ctx;
    keeper = std::move(impl_->keeper);
    impl_->cv.notify_all();
  }
  if (watch != nullptr) watch->Cancel();
  if (keeper.joinable()) keeper.join();
  // Lets a refresh in flight finish first, so its result is what gets unregistered.
  std::lock_guard serial(impl_->call_mu);
  std::optional<registry::NetworkServiceEndpoint> registered = current();
  if (!impl_->options.unregister_on_stop || !registered.has_value()) return absl::OkStatus();
  sdk::Context ctx(impl_->clock);
  ctx.set_deadline(impl_->clock.Now() + impl_->options.stop_timeout);
  absl::Status status = impl_->nse_registry->Unregister(ctx, *registered, sdk::NseRegistryNext());
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("unregistering endpoint ", registered->name(),
                                                    ": ", status.message()));
  }
  return absl::OkStatus();
}

std::optional<registry::NetworkServiceEndpoint> Registration::current() const {
  std::lock_guard lock(impl_->mu);
  return impl_->current;
}

int Registration::registrations() const {
  std::lock_guard lock(impl_->mu);
  return impl_->registrations;
}

int Registration::heals() const {
  std::lock_guard lock(impl_->mu);
  return impl_->heals;
}

registry::NetworkServiceEndpoint Registration::Entry() const { return impl_->Entry(); }

std::vector<registry::NetworkService> Registration::Services() const { return impl_->Services(); }

}  // namespace nsmcert::nse
