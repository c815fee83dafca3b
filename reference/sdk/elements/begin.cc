#include "reference/sdk/elements/begin.h"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"

namespace nsmcert::sdk {
namespace {

using google::protobuf::util::MessageDifferencer;

// The factory of the current call, kept in the call's Context values.
struct CurrentEventFactory {
  std::shared_ptr<EventFactory> factory;
};

// A FIFO lock that knows its holder, so that an event fired from inside a call for the same
// connection is refused instead of waiting for itself.
class SerialLock {
 public:
  void Lock() {
    std::unique_lock lock(mu_);
    uint64_t ticket = next_ticket_++;
    cv_.wait(lock, [&] { return serving_ == ticket; });
    holder_ = std::this_thread::get_id();
  }
  void Unlock() {
    std::lock_guard lock(mu_);
    holder_ = std::thread::id();
    ++serving_;
    cv_.notify_all();
  }
  bool HeldByCurrentThread() const {
    std::lock_guard lock(mu_);
    return holder_ == std::this_thread::get_id();
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t next_ticket_ = 0;
  uint64_t serving_ = 0;
  std::thread::id holder_;
};

// Sets the call's current factory for the duration of a scope and restores the previous one.
class ScopedFactory {
 public:
  ScopedFactory(Context& ctx, std::shared_ptr<EventFactory> factory)
      : ctx_(ctx), previous_(ctx.values().Get<CurrentEventFactory>()) {
    ctx_.values().Set(
        std::make_shared<CurrentEventFactory>(CurrentEventFactory{std::move(factory)}));
  }
  ~ScopedFactory() {
    if (previous_) {
      ctx_.values().Set(previous_);
    } else {
      ctx_.values().Erase<CurrentEventFactory>();
    }
  }
  ScopedFactory(const ScopedFactory&) = delete;
  ScopedFactory& operator=(const ScopedFactory&) = delete;

 private:
  Context& ctx_;
  std::shared_ptr<CurrentEventFactory> previous_;
};

// extra_context: start from the latest; a key whose value the caller changed (relative to what it
// was given back) takes the caller's value, a key the caller removed is removed.
void MergeExtraContext(const google::protobuf::Map<std::string, std::string>& returned,
                       const google::protobuf::Map<std::string, std::string>& requested,
                       google::protobuf::Map<std::string, std::string>& merged) {
  for (const auto& [key, value] : returned) {
    auto it = requested.find(key);
    if (it == requested.end()) {
      merged.erase(key);
    } else if (it->second != value) {
      merged[key] = it->second;
    }
  }
  for (const auto& [key, value] : requested) {
    if (!returned.contains(key)) merged[key] = value;
  }
}

// Client-side refresh merge (spec 5.4): the connection last held by begin is sent again, except for
// what the caller changed relative to the connection it was given back.
connection::Connection MergeRefresh(const connection::Connection& returned,
                                    const connection::Connection& requested,
                                    const connection::Connection& latest) {
  connection::Connection merged = latest;
  if (requested.network_service_endpoint_name() != returned.network_service_endpoint_name()) {
    merged.set_network_service_endpoint_name(requested.network_service_endpoint_name());
  }
  const auto& rc = returned.context();
  const auto& qc = requested.context();
  auto* mc = merged.mutable_context();
  if (!MessageDifferencer::Equals(rc.ip_context(), qc.ip_context())) {
    *mc->mutable_ip_context() = qc.ip_context();
  }
  if (!MessageDifferencer::Equals(rc.dns_context(), qc.dns_context())) {
    *mc->mutable_dns_context() = qc.dns_context();
  }
  if (!MessageDifferencer::Equals(rc.ethernet_context(), qc.ethernet_context())) {
    *mc->mutable_ethernet_context() = qc.ethernet_context();
  }
  if (rc.mtu() != qc.mtu()) mc->set_mtu(qc.mtu());
  MergeExtraContext(rc.extra_context(), qc.extra_context(), *mc->mutable_extra_context());
  return merged;
}

// The least time the Close that undoes a connection whose caller gave up gets: the caller's budget
// has run out by then, and the Close must still reach every later hop on a loaded node.
constexpr absl::Duration kUndoCloseBudget = absl::Seconds(15);

// Whether the caller of a server call can no longer receive its answer.
bool CallerGone(const Context& ctx) {
  return ctx.cancelled() ||
         (ctx.deadline() != absl::InfiniteFuture() && ctx.Now() >= ctx.deadline());
}

}  // namespace

std::shared_ptr<EventFactory> EventFactory::FromContext(Context& ctx) {
  auto current = ctx.values().Get<CurrentEventFactory>();
  return current ? current->factory : nullptr;
}

struct Begin::Impl : std::enable_shared_from_this<Begin::Impl> {
  enum class State { kZero, kEstablished, kClosed };

  struct Entry {
    explicit Entry(std::string id) : id(std::move(id)) {}
    const std::string id;
    SerialLock lock;
    int users = 0;  // callers holding or waiting for `lock`; guarded by Impl::mu

    // Guarded by `lock`.
    State state = State::kZero;
    networkservice::NetworkServiceRequest request;  // last successful; connection = last returned
    connection::Connection returned;                // what the caller of begin got back last
    std::optional<NetworkServiceNext> next;
    std::optional<Context> event_ctx;
    absl::Duration budget = absl::InfiniteDuration();
    std::shared_ptr<EventFactory> factory;
  };

  class EntryFactory final : public EventFactory {
   public:
    EntryFactory(std::weak_ptr<Impl> impl, std::weak_ptr<Entry> entry)
        : impl_(std::move(impl)), entry_(std::move(entry)) {}
    absl::Status Request(const EventOptions& options) override {
      return Run(options,
                 [&](Impl& impl, Entry& entry) { return impl.FireRequest(entry, options); });
    }
    absl::Status Close(const EventOptions& options) override {
      return Run(options, [&](Impl& impl, Entry& entry) { return impl.FireClose(entry, options); });
    }

   private:
    template <typename Fn>
    absl::Status Run(const EventOptions& options, Fn&& fn) {
      auto impl = impl_.lock();
      auto entry = entry_.lock();
      if (impl == nullptr || entry == nullptr) return absl::OkStatus();
      auto acquired = impl->AcquireCurrent(entry);
      if (!acquired.ok()) return acquired.status();
      if (!*acquired) return absl::OkStatus();
      Releaser release(*impl, entry);
      if (entry->state != State::kEstablished) return absl::OkStatus();
      if (options.cancelled && options.cancelled()) return absl::OkStatus();
      return fn(*impl, *entry);
    }

    std::weak_ptr<Impl> impl_;
    std::weak_ptr<Entry> entry_;
  };

  class Releaser {
   public:
    Releaser(Impl& impl, std::shared_ptr<Entry> entry) : impl_(impl), entry_(std::move(entry)) {}
    ~Releaser() { impl_.Release(entry_); }
    Releaser(const Releaser&) = delete;
    Releaser& operator=(const Releaser&) = delete;

   private:
    Impl& impl_;
    std::shared_ptr<Entry> entry_;
  };

  explicit Impl(Side side) : side(side) {}

  // Takes the executor of `id`, creating the entry when `create`. nullptr when absent and not
  // created.
  absl::StatusOr<std::shared_ptr<Entry>> Acquire(const std::string& id, bool create) {
    std::shared_ptr<Entry> entry;
    {
      std::lock_guard lock(mu);
      auto it = entries.find(id);
      if (it == entries.end()) {
        if (!create) return std::shared_ptr<Entry>();
        entry = std::make_shared<Entry>(id);
        entry->factory = std::make_shared<EntryFactory>(weak_from_this(), entry);
        entries.emplace(id, entry);
      } else {
        entry = it->second;
      }
      if (entry->lock.HeldByCurrentThread()) return Reentered(id);
      ++entry->users;
    }
    entry->lock.Lock();
    return entry;
  }

  // Takes the executor of `entry` if it is still the current entry of its id.
  absl::StatusOr<bool> AcquireCurrent(const std::shared_ptr<Entry>& entry) {
    {
      std::lock_guard lock(mu);
      auto it = entries.find(entry->id);
      if (it == entries.end() || it->second != entry) return false;
      if (entry->lock.HeldByCurrentThread()) return Reentered(entry->id);
      ++entry->users;
    }
    entry->lock.Lock();
    return true;
  }

  void Release(const std::shared_ptr<Entry>& entry) {
    entry->lock.Unlock();
    std::lock_guard lock(mu);
    // With no other user nobody can change `state` any more; an entry that is not established
    // holds nothing worth keeping.
    if (--entry->users == 0 && entry->state != State::kEstablished) {
      auto it = entries.find(entry->id);
      if (it != entries.end() && it->second == entry) entries.erase(it);
    }
  }

  static absl::Status Reentered(const std::string& id) {
    return absl::FailedPreconditionError(absl::StrCat(
        "begin: event for connection ", id, " fired from inside a call for the same connection"));
  }

  // A context for an event: derived from the last Request's context, with the same budget or
  // `min_budget` when that is longer.
  Context EventContext(Entry& entry, absl::Duration min_budget = absl::ZeroDuration()) {
    Context ctx = entry.event_ctx->Detached();
    absl::Duration budget = std::max(entry.budget, min_budget);
    if (budget != absl::InfiniteDuration()) ctx.set_deadline(ctx.Now() + budget);
    return ctx;
  }

  absl::Status FireRequest(Entry& entry, const EventOptions& options) {
    networkservice::NetworkServiceRequest request = entry.request;
    if (options.reselect) {
      Context close_ctx = EventContext(entry, options.min_budget);
      close_ctx.values().Set(std::make_shared<Reselecting>());
      ScopedFactory scoped(close_ctx, entry.factory);
      connection::Connection old = request.connection();
      (void)entry.next->Close(close_ctx, old);  // best effort: the old path may be broken
      auto* conn = request.mutable_connection();
      conn->clear_mechanism();
      conn->clear_network_service_endpoint_name();
      conn->set_state(connection::RESELECT_REQUESTED);
      // The addresses and routes were the old endpoint's allocation: the new path brings its own
      // (spec 14 F.47). What the client itself asks for (excluded prefixes, policies) stays.
      auto* ip = conn->mutable_context()->mutable_ip_context();
      ip->clear_src_ip_addrs();
      ip->clear_dst_ip_addrs();
      ip->clear_src_routes();
      ip->clear_dst_routes();
    }
    Context ctx = EventContext(entry, options.min_budget);
    if (options.reselect) ctx.values().Set(std::make_shared<Reselecting>());
    ScopedFactory scoped(ctx, entry.factory);
    auto conn = entry.next->Request(ctx, request);
    if (!conn.ok()) return conn.status();
    conn->set_state(connection::UP);
    entry.request = std::move(request);
    *entry.request.mutable_connection() = *conn;
    return absl::OkStatus();
  }

  absl::Status FireClose(Entry& entry, const EventOptions& options) {
    Context ctx = EventContext(entry, options.min_budget);
    ScopedFactory scoped(ctx, entry.factory);
    connection::Connection conn = entry.request.connection();
    absl::Status status = entry.next->Close(ctx, conn);
    entry.state = State::kClosed;
    return status;
  }

  const Side side;
  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<Entry>> entries;
};

Begin::Begin(Side side) : impl_(std::make_shared<Impl>(side)) {}

Begin::~Begin() = default;

absl::StatusOr<connection::Connection> Begin::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  const std::string id = request.connection().id();
  if (id.empty()) return absl::InvalidArgumentError("begin: request connection id is empty");
  if (EventFactory::FromContext(ctx) != nullptr) return next.Request(ctx, request);

  auto acquired = impl_->Acquire(id, /*create=*/true);
  if (!acquired.ok()) return acquired.status();
  std::shared_ptr<Impl::Entry> entry = *std::move(acquired);
  Impl::Releaser release(*impl_, entry);
  using State = Impl::State;

  if (entry->state == State::kEstablished) {
    if (impl_->side == Side::kServer &&
        request.connection().state() == connection::RESELECT_REQUESTED) {
      // The caller wants a different path: drop ours before building the new one.
      Context close_ctx = impl_->EventContext(*entry);
      ScopedFactory scoped(close_ctx, entry->factory);
      connection::Connection old = entry->request.connection();
      (void)entry->next->Close(close_ctx, old);
      entry->state = State::kClosed;
    } else if (impl_->side == Side::kClient) {
      *request.mutable_connection() =
          MergeRefresh(entry->returned, request.connection(), entry->request.connection());
    }
  }

  absl::Duration budget = ctx.Remaining();
  absl::StatusOr<connection::Connection> conn;
  {
    ScopedFactory scoped(ctx, entry->factory);
    conn = next.Request(ctx, request);
  }
  if (!conn.ok()) {
    if (entry->state != State::kEstablished) entry->state = State::kClosed;
    return conn;
  }
  if (impl_->side == Side::kServer && entry->state != State::kEstablished && CallerGone(ctx)) {
    // The caller gave up before this answer could reach it: it will never refresh or close what
    // the rest of the chain built (which would hold resources until the tokens expire), so undo it.
    Context close_ctx = ctx.Detached();
    const absl::Duration close_budget = std::max(budget, kUndoCloseBudget);
    if (close_budget != absl::InfiniteDuration()) {
      close_ctx.set_deadline(close_ctx.Now() + close_budget);
    }
    {
      ScopedFactory scoped(close_ctx, entry->factory);
      (void)next.Close(close_ctx, *conn);
    }
    entry->state = State::kClosed;
    return absl::DeadlineExceededError(absl::StrCat(
        "begin: connection ", id, ": the caller's deadline passed before the answer; undone"));
  }
  if (impl_->side == Side::kServer) conn->set_state(connection::UP);
  entry->request = request;
  *entry->request.mutable_connection() = *conn;
  entry->returned = *conn;
  entry->next = next;
  entry->event_ctx = ctx.Detached();
  entry->budget = budget;
  entry->state = State::kEstablished;
  return conn;
}

absl::Status Begin::Close(Context& ctx, connection::Connection& conn,
                          const NetworkServiceNext& next) {
  if (EventFactory::FromContext(ctx) != nullptr) return next.Close(ctx, conn);
  auto acquired = impl_->Acquire(conn.id(), /*create=*/false);
  if (!acquired.ok()) return acquired.status();
  std::shared_ptr<Impl::Entry> entry = *std::move(acquired);
  if (entry == nullptr) return absl::OkStatus();  // nothing to close
  Impl::Releaser release(*impl_, entry);
  if (entry->state != Impl::State::kEstablished) return absl::OkStatus();

  // Close with the last connection the rest of the chain returned: it carries the full path.
  connection::Connection last = entry->request.connection();
  absl::Status status;
  {
    ScopedFactory scoped(ctx, entry->factory);
    status = next.Close(ctx, last);
  }
  entry->state = Impl::State::kClosed;
  return status;
}

absl::Status Begin::CloseAll() {
  std::vector<std::shared_ptr<EventFactory>> factories;
  {
    std::lock_guard lock(impl_->mu);
    for (const auto& [id, entry] : impl_->entries) factories.push_back(entry->factory);
  }
  absl::Status first = absl::OkStatus();
  for (const auto& factory : factories) {
    absl::Status s = factory->Close();
    if (first.ok() && !s.ok()) first = s;
  }
  return first;
}

void Begin::Abandon() {
  // Entries leave the map here; a call in flight keeps its own until it finishes, and an entry
  // that is not the current one of its id is never used again. Destroyed outside the lock: an
  // entry may hold the last reference to the rest of the chain.
  std::map<std::string, std::shared_ptr<Impl::Entry>> dropped;
  {
    std::lock_guard lock(impl_->mu);
    dropped.swap(impl_->entries);
  }
}

size_t Begin::size() const {
  std::lock_guard lock(impl_->mu);
  return impl_->entries.size();
}

}  // namespace nsmcert::sdk
