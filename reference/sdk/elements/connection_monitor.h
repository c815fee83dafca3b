// ConnectionMonitor: the connection table of one server and its MonitorConnections subscribers
// (spec 7). The `monitor` element feeds it from the chain; the gRPC adapter
// (reference/sdk/grpc/monitor_server.h) serves it as
// /connection.MonitorConnection/MonitorConnections.
//
// Semantics:
// - Publish(UPDATE) stores or replaces the event's connections by id, Publish(DELETE) removes them;
//   then every subscriber gets the event reduced to the connections its selector matches, if any.
//   INITIAL_STATE_TRANSFER events are not published (only Subscribe produces one).
// - Subscribe queues exactly one INITIAL_STATE_TRANSFER event with every stored connection the
//   selector matches (possibly none) before any later event, atomically with the registration, so a
//   subscriber neither misses nor duplicates an event.
// - A subscription ends when the monitor shuts down or when its queue overflows (a subscriber that
//   stopped reading); the transport then ends the stream.
//
// Threading: all methods are thread-safe. Publish never blocks on a subscriber (events are queued).
// A subscriber either waits in Next() (a thread of its own) or is told of new events by a notify
// callback (SetNotify) and takes them with TryNext(), so that an idle subscriber costs no thread.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "connection.pb.h"

namespace nsmcert::sdk {

// Spec 7 selector matching. An empty selector matches everything. `network_services`, when
// non-empty, must contain the connection's network_service. `path_segments`, when non-empty, must
// match a contiguous run of the connection's path segments, comparing name, id and token only where
// the selector's field is non-empty.
bool MonitorSelectorMatches(const connection::MonitorScopeSelector& selector,
                            const connection::Connection& conn);

// The event reduced to the connections `selector` matches.
connection::ConnectionEvent FilterEvent(const connection::MonitorScopeSelector& selector,
                                        const connection::ConnectionEvent& event);

class ConnectionMonitor;

// One subscriber's view: a queue of events. Destroying it unsubscribes.
class MonitorSubscription {
 public:
  ~MonitorSubscription();
  MonitorSubscription(const MonitorSubscription&) = delete;
  MonitorSubscription& operator=(const MonitorSubscription&) = delete;

  // Waits up to `timeout` (real time) for the next event. nullopt when none came in time or the
  // subscription has ended and its queue is drained (see ended()).
  std::optional<connection::ConnectionEvent> Next(absl::Duration timeout);
  // The next queued event, without waiting; nullopt when none is queued.
  std::optional<connection::ConnectionEvent> TryNext();
  // Push mode: `notify` is called whenever an event was queued or the subscription ended, and once
  // right away (events may already be queued). It runs on the publishing thread with no lock of
  // the monitor held, so it may call TryNext()/ended(); it must not block. Calls are not
  // serialised with each other, and one may still run after the subscription was destroyed, so
  // `notify` must own (or weakly hold) whatever it touches. Replaces an earlier callback.
  void SetNotify(std::function<void()> notify);
  // True once no event will come any more and none is queued.
  bool ended() const;
  // True when it ended because the subscriber fell too far behind.
  bool overflowed() const;

 private:
  friend class ConnectionMonitor;
  struct Shared;
  struct Queue;
  MonitorSubscription(std::shared_ptr<Shared> shared, std::shared_ptr<Queue> queue, uint64_t id)
      : shared_(std::move(shared)), queue_(std::move(queue)), id_(id) {}
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Queue> queue_;
  uint64_t id_;
};

class ConnectionMonitor {
 public:
  // Events a subscriber may have queued before it is cut off.
  static constexpr size_t kMaxQueuedEvents = 4096;

  ConnectionMonitor();
  ~ConnectionMonitor();

  std::unique_ptr<MonitorSubscription> Subscribe(const connection::MonitorScopeSelector& selector);
  void Publish(const connection::ConnectionEvent& event);

  // Convenience for the single-connection events the chain produces.
  void Update(const connection::Connection& conn);
  void Delete(const connection::Connection& conn);

  // The stored connections by id (a snapshot).
  std::map<std::string, connection::Connection> Connections() const;
  std::optional<connection::Connection> Find(const std::string& id) const;
  size_t subscriber_count() const;

  // Ends every subscription (streams end); later subscriptions end right after their initial
  // transfer. Publish keeps updating the table.
  void Shutdown();

 private:
  std::shared_ptr<MonitorSubscription::Shared> shared_;
};

}  // namespace nsmcert::sdk
