#include "reference/sdk/elements/connection_monitor.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <vector>

namespace nsmcert::sdk {

struct MonitorSubscription::Queue {
  connection::MonitorScopeSelector selector;
  std::deque<connection::ConnectionEvent> events;
  bool ended = false;
  bool overflowed = false;
  std::condition_variable cv;
  // Push mode (SetNotify); shared so that a publisher can call it after dropping the lock.
  std::shared_ptr<const std::function<void()>> notify;
};

struct MonitorSubscription::Shared {
  mutable std::mutex mu;
  std::map<std::string, connection::Connection> connections;
  std::map<uint64_t, std::shared_ptr<Queue>> queues;
  uint64_t next_id = 0;
  bool shut_down = false;
};

namespace {

using Notifiers = std::vector<std::shared_ptr<const std::function<void()>>>;

// Runs the callbacks collected under the lock, after it was released: a callback may call back
// into the subscription.
void RunNotifiers(const Notifiers& notifiers) {
  for (const auto& notify : notifiers) (*notify)();
}

bool SegmentMatches(const connection::PathSegment& want, const connection::PathSegment& have) {
  if (!want.name().empty() && want.name() != have.name()) return false;
  if (!want.id().empty() && want.id() != have.id()) return false;
  if (!want.token().empty() && want.token() != have.token()) return false;
  return true;
}

}  // namespace

bool MonitorSelectorMatches(const connection::MonitorScopeSelector& selector,
                            const connection::Connection& conn) {
  if (selector.network_services_size() > 0) {
    bool found = false;
    for (const auto& ns : selector.network_services())
      found = found || ns == conn.network_service();
    if (!found) return false;
  }
  const auto& want = selector.path_segments();
  if (want.empty()) return true;
  const auto& have = conn.path().path_segments();
  for (int start = 0; start + want.size() <= have.size(); ++start) {
    bool all = true;
    for (int i = 0; i < want.size() && all; ++i) all = SegmentMatches(want[i], have[start + i]);
    if (all) return true;
  }
  return false;
}

connection::ConnectionEvent FilterEvent(const connection::MonitorScopeSelector& selector,
                                        const connection::ConnectionEvent& event) {
  connection::ConnectionEvent out;
  out.set_type(event.type());
  for (const auto& [id, conn] : event.connections()) {
    if (MonitorSelectorMatches(selector, conn)) (*out.mutable_connections())[id] = conn;
  }
  return out;
}

MonitorSubscription::~MonitorSubscription() {
  std::lock_guard lock(shared_->mu);
  shared_->queues.erase(id_);
}

std::optional<connection::ConnectionEvent> MonitorSubscription::Next(absl::Duration timeout) {
  std::unique_lock lock(shared_->mu);
  queue_->cv.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                      [&] { return !queue_->events.empty() || queue_->ended; });
  if (queue_->events.empty()) return std::nullopt;
  connection::ConnectionEvent event = std::move(queue_->events.front());
  queue_->events.pop_front();
  return event;
}

std::optional<connection::ConnectionEvent> MonitorSubscription::TryNext() {
  std::lock_guard lock(shared_->mu);
  if (queue_->events.empty()) return std::nullopt;
  connection::ConnectionEvent event = std::move(queue_->events.front());
  queue_->events.pop_front();
  return event;
}

void MonitorSubscription::SetNotify(std::function<void()> notify) {
  auto shared_notify = std::make_shared<const std::function<void()>>(std::move(notify));
  {
    std::lock_guard lock(shared_->mu);
    queue_->notify = shared_notify;
  }
  (*shared_notify)();
}

bool MonitorSubscription::ended() const {
  std::lock_guard lock(shared_->mu);
  return queue_->ended && queue_->events.empty();
}

bool MonitorSubscription::overflowed() const {
  std::lock_guard lock(shared_->mu);
  return queue_->overflowed;
}

ConnectionMonitor::ConnectionMonitor() : shared_(std::make_shared<MonitorSubscription::Shared>()) {}

ConnectionMonitor::~ConnectionMonitor() { Shutdown(); }

std::unique_ptr<MonitorSubscription> ConnectionMonitor::Subscribe(
    const connection::MonitorScopeSelector& selector) {
  auto queue = std::make_shared<MonitorSubscription::Queue>();
  queue->selector = selector;
  std::lock_guard lock(shared_->mu);
  connection::ConnectionEvent initial;
  initial.set_type(connection::INITIAL_STATE_TRANSFER);
  for (const auto& [id, conn] : shared_->connections) {
    if (MonitorSelectorMatches(selector, conn)) (*initial.mutable_connections())[id] = conn;
  }
  queue->events.push_back(std::move(initial));
  queue->ended = shared_->shut_down;
  uint64_t id = shared_->next_id++;
  shared_->queues.emplace(id, queue);
  return std::unique_ptr<MonitorSubscription>(new MonitorSubscription(shared_, queue, id));
}

void ConnectionMonitor::Publish(const connection::ConnectionEvent& event) {
  if (event.type() == connection::INITIAL_STATE_TRANSFER) return;
  Notifiers notifiers;
  std::unique_lock lock(shared_->mu);
  for (const auto& [id, conn] : event.connections()) {
    if (event.type() == connection::DELETE) {
      shared_->connections.erase(id);
    } else {
      shared_->connections[id] = conn;
    }
  }
  for (auto& [id, queue] : shared_->queues) {
    if (queue->ended) continue;
    connection::ConnectionEvent filtered = FilterEvent(queue->selector, event);
    if (filtered.connections().empty()) continue;
    if (queue->events.size() >= kMaxQueuedEvents) {
      // A subscriber this far behind has stopped reading; cut it off rather than grow forever.
      queue->overflowed = true;
      queue->ended = true;
      queue->events.clear();
    } else {
      queue->events.push_back(std::move(filtered));
    }
    queue->cv.notify_all();
    if (queue->notify) notifiers.push_back(queue->notify);
  }
  lock.unlock();
  RunNotifiers(notifiers);
}

void ConnectionMonitor::Update(const connection::Connection& conn) {
  connection::ConnectionEvent event;
  event.set_type(connection::UPDATE);
  (*event.mutable_connections())[conn.id()] = conn;
  Publish(event);
}

void ConnectionMonitor::Delete(const connection::Connection& conn) {
  connection::ConnectionEvent event;
  event.set_type(connection::DELETE);
  (*event.mutable_connections())[conn.id()] = conn;
  Publish(event);
}

std::map<std::string, connection::Connection> ConnectionMonitor::Connections() const {
  std::lock_guard lock(shared_->mu);
  return shared_->connections;
}

std::optional<connection::Connection> ConnectionMonitor::Find(const std::string& id) const {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->connections.find(id);
  if (it == shared_->connections.end()) return std::nullopt;
  return it->second;
}

size_t ConnectionMonitor::subscriber_count() const {
  std::lock_guard lock(shared_->mu);
  size_t n = 0;
  for (const auto& [id, queue] : shared_->queues) n += queue->ended ? 0 : 1;
  return n;
}

void ConnectionMonitor::Shutdown() {
  Notifiers notifiers;
  {
    std::lock_guard lock(shared_->mu);
    shared_->shut_down = true;
    for (auto& [id, queue] : shared_->queues) {
      queue->ended = true;
      queue->cv.notify_all();
      if (queue->notify) notifiers.push_back(queue->notify);
    }
  }
  RunNotifiers(notifiers);
}

}  // namespace nsmcert::sdk
