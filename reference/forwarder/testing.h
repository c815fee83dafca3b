// Test doubles for the forwarder's element tests (test-only; not part of nsmcert_forwarder):
// registries that serve what a test put into them, and an element that records what reached it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "reference/forwarder/discover.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/elements/connection_event_stream.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/match.h"

namespace nsmcert::forwarder::testing {

// An NSE registry in memory. Find matches as the registry does; a watch Find sends the current
// matches, then blocks until its context is cancelled or BreakWatches() is called (then
// UNAVAILABLE). Register stores the entry (with `expiry` from the context's clock when set) and
// can be made to fail. Thread-safe.
class FakeNseRegistry : public sdk::NseRegistryElement {
 public:
  void Add(registry::NetworkServiceEndpoint nse) {
    std::lock_guard lock(mu_);
    Upsert(std::move(nse));
  }
  void Remove(const std::string& name) {
    std::lock_guard lock(mu_);
    std::erase_if(entries_, [&](const auto& e) { return e.name() == name; });
  }

  absl::StatusOr<registry::NetworkServiceEndpoint> Register(
      sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
      const sdk::NseRegistryNext& next) override {
    std::lock_guard lock(mu_);
    registered_.push_back(nse);
    last_register_metadata_ = ctx.outgoing_metadata();
    if (fail_registers_ > 0) {
      --fail_registers_;
      return absl::UnavailableError("fake registry: register refused");
    }
    registry::NetworkServiceEndpoint stored = nse;
    if (expiry > absl::ZeroDuration()) {
      *stored.mutable_expiration_time() = *sdk::tools::ToProtoTimestamp(ctx.Now() + expiry);
    }
    Upsert(stored);
    return stored;
  }

  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) override {
    std::vector<registry::NetworkServiceEndpoint> matches;
    int generation;
    {
      std::lock_guard lock(mu_);
      ++finds_;
      if (on_find) on_find(ctx);
      if (fail_finds_) return absl::UnavailableError("fake registry: find refused");
      for (const auto& e : entries_) {
        if (sdk::tools::MatchNetworkServiceEndpointQuery(query.network_service_endpoint(), e)) {
          matches.push_back(e);
        }
      }
      generation = watch_generation_;
      if (query.watch()) ++watching_;
      cv_.notify_all();
    }
    for (const auto& e : matches) {
      registry::NetworkServiceEndpointResponse response;
      *response.mutable_network_service_endpoint() = e;
      if (absl::Status s = sink.Send(response); !s.ok()) return s;
    }
    if (!query.watch()) return absl::OkStatus();
    for (;;) {
      if (ctx.cancelled()) {
        std::lock_guard lock(mu_);
        --watching_;
        cv_.notify_all();
        return absl::OkStatus();
      }
      std::optional<registry::NetworkServiceEndpointResponse> event;
      {
        std::unique_lock lock(mu_);
        if (watch_generation_ != generation) {
          --watching_;
          cv_.notify_all();
          return absl::UnavailableError("fake registry: watch broken");
        }
        if (!pending_events_.empty()) {
          event = pending_events_.front();
          pending_events_.erase(pending_events_.begin());
        } else {
          cv_.wait_for(lock, std::chrono::milliseconds(20));
        }
      }
      if (event.has_value()) (void)sink.Send(*event);
    }
  }

  absl::Status Unregister(sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const sdk::NseRegistryNext& next) override {
    std::lock_guard lock(mu_);
    unregistered_.push_back(nse);
    std::erase_if(entries_, [&](const auto& e) { return e.name() == nse.name(); });
    return absl::OkStatus();
  }

  // Ends every open watch with an error (a restarted nsmgr, say).
  void BreakWatches() {
    std::lock_guard lock(mu_);
    ++watch_generation_;
    cv_.notify_all();
  }
  // Sends a `deleted` event for `name` to the open watches.
  void SendDeleted(const std::string& name) {
    std::lock_guard lock(mu_);
    registry::NetworkServiceEndpointResponse response;
    response.mutable_network_service_endpoint()->set_name(name);
    response.set_deleted(true);
    pending_events_.push_back(response);
    cv_.notify_all();
  }
  // Waits (real time) until `n` watches are open.
  bool WaitWatching(int n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return watching_ == n; });
  }
  // Waits (real time) until Register was called `n` times in all.
  bool WaitRegistered(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    for (auto until = std::chrono::steady_clock::now() + timeout;
         std::chrono::steady_clock::now() < until;) {
      {
        std::lock_guard lock(mu_);
        if (registered_.size() >= n) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  void FailRegisters(int n) {
    std::lock_guard lock(mu_);
    fail_registers_ = n;
  }
  // Sees the context of every Find (its deadline, say). Set before calls start.
  std::function<void(const sdk::Context&)> on_find;

  void FailFinds(bool fail) {
    std::lock_guard lock(mu_);
    fail_finds_ = fail;
  }
  std::vector<registry::NetworkServiceEndpoint> registered() const {
    std::lock_guard lock(mu_);
    return registered_;
  }
  std::vector<registry::NetworkServiceEndpoint> unregistered() const {
    std::lock_guard lock(mu_);
    return unregistered_;
  }
  sdk::Metadata last_register_metadata() const {
    std::lock_guard lock(mu_);
    return last_register_metadata_;
  }
  int finds() const {
    std::lock_guard lock(mu_);
    return finds_;
  }

  // Set before calls start.
  absl::Duration expiry = absl::ZeroDuration();

 private:
  void Upsert(registry::NetworkServiceEndpoint nse) {
    for (auto& e : entries_) {
      if (e.name() == nse.name()) {
        e = std::move(nse);
        return;
      }
    }
    entries_.push_back(std::move(nse));
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<registry::NetworkServiceEndpoint> entries_;
  std::vector<registry::NetworkServiceEndpoint> registered_;
  std::vector<registry::NetworkServiceEndpoint> unregistered_;
  std::vector<registry::NetworkServiceEndpointResponse> pending_events_;
  sdk::Metadata last_register_metadata_;
  int fail_registers_ = 0;
  bool fail_finds_ = false;
  int finds_ = 0;
  int watch_generation_ = 0;
  int watching_ = 0;
};

// An NS registry in memory; Find matches as the registry does (non-watch only).
class FakeNsRegistry : public sdk::NsRegistryElement {
 public:
  void Add(registry::NetworkService ns) {
    std::lock_guard lock(mu_);
    services_.push_back(std::move(ns));
  }
  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceQuery& query,
                    sdk::NsFindSink& sink, const sdk::NsRegistryNext& next) override {
    std::vector<registry::NetworkService> matches;
    {
      std::lock_guard lock(mu_);
      for (const auto& s : services_) {
        if (sdk::tools::MatchNetworkServiceQuery(query.network_service(), s)) {
          matches.push_back(s);
        }
      }
    }
    for (const auto& s : matches) {
      registry::NetworkServiceResponse response;
      *response.mutable_network_service() = s;
      if (absl::Status st = sink.Send(response); !st.ok()) return st;
    }
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::vector<registry::NetworkService> services_;
};

// The end of a chain under test: records each Request and Close with the ClientUrl and Candidates
// it saw; `on_request` may change the connection returned or fail. Thread-safe.
class Sink : public sdk::NetworkServiceElement {
 public:
  struct Seen {
    networkservice::NetworkServiceRequest request;
    std::string client_url;
    std::optional<Candidates> candidates;
  };

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    Seen seen{request, Url(ctx), std::nullopt};
    if (auto c = ctx.values().Get<Candidates>(); c != nullptr) seen.candidates = *c;
    std::function<absl::Status(networkservice::NetworkServiceRequest&)> hook;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(seen);
      hook = on_request;
    }
    if (hook) {
      if (absl::Status s = hook(request); !s.ok()) return s;
    }
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    {
      std::lock_guard lock(mu_);
      closes_.push_back({conn, Url(ctx)});
    }
    return next.Close(ctx, conn);
  }

  std::vector<Seen> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<std::pair<connection::Connection, std::string>> closes() const {
    std::lock_guard lock(mu_);
    return closes_;
  }

  // Set before calls start. Runs on each Request; may change the request (whose connection is
  // what comes back) or fail the call.
  std::function<absl::Status(networkservice::NetworkServiceRequest&)> on_request;

 private:
  static std::string Url(sdk::Context& ctx) {
    auto url = ctx.values().Get<sdk::ClientUrl>();
    return url != nullptr ? url->url : "";
  }
  mutable std::mutex mu_;
  std::vector<Seen> requests_;
  std::vector<std::pair<connection::Connection, std::string>> closes_;
};

// A monitor stream from a next hop that never reports anything until cancelled.
class SilentEventStream : public sdk::ConnectionEventStream {
 public:
  absl::StatusOr<connection::ConnectionEvent> Next() override {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return cancelled_; });
    return absl::CancelledError("stream cancelled");
  }
  void Cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool cancelled_ = false;
};

inline sdk::ConnectionEventStreamOpener SilentOpener() {
  return [](const std::string&, const connection::MonitorScopeSelector&)
             -> absl::StatusOr<std::unique_ptr<sdk::ConnectionEventStream>> {
    return std::make_unique<SilentEventStream>();
  };
}

inline registry::NetworkServiceEndpoint Nse(const std::string& name, const std::string& service,
                                            const std::string& url,
                                            std::map<std::string, std::string> labels = {}) {
  registry::NetworkServiceEndpoint nse;
  nse.set_name(name);
  nse.add_network_service_names(service);
  nse.set_url(url);
  auto& l = *(*nse.mutable_network_service_labels())[service].mutable_labels();
  for (auto& [k, v] : labels) l[k] = v;
  return nse;
}

inline std::shared_ptr<sdk::NetworkServiceChain> Chain(
    std::vector<std::shared_ptr<sdk::NetworkServiceElement>> elements) {
  auto chain = sdk::NetworkServiceChain::Make(std::move(elements));
  return chain.ok() ? *chain : nullptr;
}

}  // namespace nsmcert::forwarder::testing
