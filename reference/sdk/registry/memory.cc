#include "reference/sdk/registry/memory.h"

#include <algorithm>
#include <condition_variable>
#include <deque>

#include "absl/strings/str_cat.h"
#include "reference/sdk/registry/traits.h"
#include "reference/sdk/tools/match.h"

namespace nsmcert::sdk::reg {

namespace {

bool Matches(const registry::NetworkServiceEndpointQuery& query,
             const registry::NetworkServiceEndpoint& nse) {
  return tools::MatchNetworkServiceEndpointQuery(query.network_service_endpoint(), nse);
}
bool Matches(const registry::NetworkServiceQuery& query, const registry::NetworkService& ns) {
  return tools::MatchNetworkServiceQuery(query.network_service(), ns);
}

}  // namespace

// One open watch Find: the events it has not sent yet.
template <typename Types>
struct Memory<Types>::Watcher {
  explicit Watcher(Query q) : query(std::move(q)) {}
  const Query query;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Response> pending;
  bool overflowed = false;
  // Set by the context's cancel callback, to wake the wait.
  bool cancelled = false;
};

template <typename Types>
Memory<Types>::Memory(MemoryOptions options) : options_(options) {}

template <typename Types>
Memory<Types>::~Memory() = default;

template <typename Types>
absl::StatusOr<typename Types::Resource> Memory<Types>::Register(Context& ctx, Resource& resource,
                                                                 const Next& next) {
  absl::StatusOr<Resource> result = next.Register(ctx, resource);
  if (!result.ok()) return result;
  std::lock_guard lock(mu_);
  entries_[result->name()] = *result;
  PublishLocked(RegistryTraits<Types>::MakeResponse(*result, /*deleted=*/false));
  return result;
}

template <typename Types>
absl::Status Memory<Types>::Unregister(Context& ctx, Resource& resource, const Next& next) {
  {
    std::lock_guard lock(mu_);
    if (auto it = entries_.find(resource.name()); it != entries_.end()) {
      Response deleted = RegistryTraits<Types>::MakeResponse(it->second, /*deleted=*/true);
      entries_.erase(it);
      PublishLocked(deleted);
    }
  }
  return next.Unregister(ctx, resource);
}

template <typename Types>
absl::Status Memory<Types>::Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                                 const Next& next) {
  if (query.watch()) {
    // Upstream lets the rest of the chain answer first, then streams the store's view.
    if (absl::Status s = next.Find(ctx, query, sink); !s.ok()) return s;
    return Watch(ctx, query, sink);
  }
  std::vector<Resource> matches;
  {
    std::lock_guard lock(mu_);
    matches = MatchesLocked(query);
  }
  for (const Resource& resource : matches) {
    absl::Status s = sink.Send(RegistryTraits<Types>::MakeResponse(resource, false));
    if (!s.ok()) return s;
  }
  return next.Find(ctx, query, sink);
}

template <typename Types>
absl::Status Memory<Types>::Watch(Context& ctx, const Query& query, FindSink<Response>& sink) {
  auto watcher = std::make_shared<Watcher>(query);
  std::vector<Resource> snapshot;
  {
    // Taking the snapshot and joining the watchers under one lock: every later change is queued.
    std::lock_guard lock(mu_);
    snapshot = MatchesLocked(query);
    watchers_.push_back(watcher);
  }
  struct Leave {
    Memory* self;
    Watcher* watcher;
    ~Leave() {
      std::lock_guard lock(self->mu_);
      auto& w = self->watchers_;
      w.erase(std::remove_if(w.begin(), w.end(), [&](const auto& p) { return p.get() == watcher; }),
              w.end());
    }
  } leave{this, watcher.get()};

  // A send fails when the receiver went away; that is how a cancelled watch usually ends.
  auto send_failed = [&](const absl::Status& s) { return ctx.cancelled() ? absl::OkStatus() : s; };
  for (const Resource& resource : snapshot) {
    absl::Status s = sink.Send(RegistryTraits<Types>::MakeResponse(resource, false));
    if (!s.ok()) return send_failed(s);
  }
  snapshot.clear();

  // The wait below is woken by changes and by Cancel() on the context. What nothing signals is only
  // noticed by looking every cancel_poll_interval: a cancel probe (a server-side context, whose
  // synchronous gRPC call offers no cancel callback) and a deadline (on the context's clock, which
  // may be an injected one). A watch with neither costs nothing while idle.
  Context::CancelRegistration on_cancel = ctx.OnCancel([watcher] {
    std::lock_guard lock(watcher->mu);
    watcher->cancelled = true;
    watcher->cv.notify_all();
  });
  const bool poll = ctx.has_cancel_probe() || ctx.deadline() != absl::InfiniteFuture();
  std::deque<Response> batch;
  for (;;) {
    {
      std::unique_lock lock(watcher->mu);
      auto woken = [&] {
        return !watcher->pending.empty() || watcher->overflowed || watcher->cancelled;
      };
      if (poll) {
        watcher->cv.wait_for(lock, absl::ToChronoNanoseconds(options_.cancel_poll_interval), woken);
      } else {
        watcher->cv.wait(lock, woken);
      }
      if (watcher->overflowed) {
        return absl::ResourceExhaustedError(
            absl::StrCat("find: the watch fell more than ", options_.max_watch_backlog,
                         " events behind and was ended; open it again"));
      }
      batch.swap(watcher->pending);
    }
    for (const Response& response : batch) {
      absl::Status s = sink.Send(response);
      if (!s.ok()) return send_failed(s);
    }
    batch.clear();
    if (ctx.cancelled()) return absl::OkStatus();
    if (ctx.Remaining() <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError("find: the watch reached its deadline");
    }
  }
}

template <typename Types>
void Memory<Types>::PublishLocked(const Response& response) {
  const Resource& resource = RegistryTraits<Types>::ResponseResource(response);
  for (const auto& watcher : watchers_) {
    if (!Matches(watcher->query, resource)) continue;
    {
      std::lock_guard lock(watcher->mu);
      if (watcher->overflowed) continue;
      if (watcher->pending.size() >= options_.max_watch_backlog) {
        watcher->overflowed = true;
        watcher->pending.clear();
      } else {
        watcher->pending.push_back(response);
      }
    }
    watcher->cv.notify_all();
  }
}

template <typename Types>
std::vector<typename Types::Resource> Memory<Types>::MatchesLocked(const Query& query) const {
  std::vector<Resource> matches;
  const std::string& name = RegistryTraits<Types>::QueryResource(query).name();
  if (!name.empty()) {
    // The name must be equal, so only that entry can match.
    if (auto it = entries_.find(name); it != entries_.end() && Matches(query, it->second)) {
      matches.push_back(it->second);
    }
    return matches;
  }
  for (const auto& [unused, resource] : entries_) {
    if (Matches(query, resource)) matches.push_back(resource);
  }
  return matches;
}

template <typename Types>
std::optional<typename Types::Resource> Memory<Types>::Get(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = entries_.find(name);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

template <typename Types>
size_t Memory<Types>::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

template <typename Types>
size_t Memory<Types>::watchers() const {
  std::lock_guard lock(mu_);
  return watchers_.size();
}

template class Memory<NseRegistryTypes>;
template class Memory<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
