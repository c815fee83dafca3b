// begin: serialises events per connection id and lets later elements fire events of their own.
//
// Guarantees:
// - Request and Close calls for one connection id never interleave: each id has a FIFO executor,
//   so a second concurrent Request for the same id runs after the first and sees its result
//   (spec G.66). Calls for different ids run concurrently.
// - A Request for an id that is already established is a refresh. A Close for an unknown or
//   already closed id is a no-op that returns OK; a Close always closes with the connection last
//   returned by the rest of the chain (it carries the full downstream path).
// - A server that holds an established connection and receives a Request with state
//   RESELECT_REQUESTED first closes its existing downstream connection, then handles the request
//   as a new one (spec 5.4).
// - The server side returns state UP on success. A new connection (not a refresh) whose caller
//   gave up meanwhile (its deadline passed or it cancelled) while the rest of the chain built it is
//   closed again through the rest of the chain, with the budget the Request had (15 s at least),
//   and the call
//   fails with DEADLINE_EXCEEDED: the caller never learns of it, so nobody else would close it. The
//   client side merges a refresh with the connection it got back last (spec 5.4): the previously
//   returned connection is sent again, except that a changed network_service_endpoint_name and
//   changed extra context win.
// - While a call runs, EventFactory::FromContext(ctx) gives the elements after begin a handle to
//   fire a Request (refresh, heal) or Close (timeout) for the same connection later, through the
//   same executor and the same rest of the chain.
// - A begin that finds another begin's factory in the context (a client chain nested in a server
//   chain) passes calls through: the outer one already serialises them.
//
// Chain placement: right after updatepath (the connection id must be final), before every element
// that keeps per-connection state or fires events (metadata, timeout, refresh, heal, monitor).
//
// Ownership: while a connection is established, begin keeps the rest of its chain alive (it needs
// it to fire events), which also keeps begin itself alive. Before dropping a chain that may still
// hold connections, call CloseAll() (graceful: every connection is closed downstream) or Abandon()
// (the process is going away, or a test simulates its death); otherwise the chain is never freed.
#pragma once

#include <functional>
#include <memory>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

// Options of an event fired through an EventFactory.
struct EventOptions {
  // Checked once the event holds the connection's executor; when it returns true the event does
  // nothing and returns OK. A timer uses it to drop a Close that a newer Request made stale.
  std::function<bool()> cancelled;
  // Request only: close the connection first, then request again with mechanism and
  // network_service_endpoint_name cleared and state RESELECT_REQUESTED (heal's reselect). The IP
  // context's addresses and routes are dropped too (the old endpoint's allocation); excluded
  // prefixes stay.
  bool reselect = false;
  // The event gets at least this much time, even when the last Request had a shorter budget. A
  // hop's own Close on expiry needs it: that Close must reach every later hop, and the caller's
  // request timeout (1 s, say) says nothing about how long that takes.
  absl::Duration min_budget = absl::ZeroDuration();
};

// Put into the context values of both halves of a reselect (the Close of the old path and the
// Request that follows, fired with EventOptions::reselect), so that an element can tell that Close
// from a final one: the connection is about to be requested again.
struct Reselecting {};

// Fires events for one connection from inside (or outside) the chain. Thread-safe.
//
// Events run synchronously on the calling thread once they hold the connection's executor, with a
// context derived from the last successful Request's context (same clock, peer identity and
// per-call values seen by begin; no metadata; the same time budget the Request had, or
// EventOptions::min_budget when that is longer). Calling an
// event from inside a call for the same connection would wait for itself; that is refused with
// FAILED_PRECONDITION. Keep a std::weak_ptr when storing a factory beyond a call: it expires when
// the connection is closed.
class EventFactory {
 public:
  virtual ~EventFactory() = default;

  // Re-sends the last successful request through the elements after begin. OK without doing
  // anything when the connection is no longer established.
  virtual absl::Status Request(const EventOptions& options = {}) = 0;
  // Closes the connection through the elements after begin, with the last returned connection.
  // OK without doing anything when it is no longer established.
  virtual absl::Status Close(const EventOptions& options = {}) = 0;

  // The factory of the connection the current call is about, or nullptr outside begin.
  static std::shared_ptr<EventFactory> FromContext(Context& ctx);
};

class Begin final : public NetworkServiceElement {
 public:
  enum class Side { kServer, kClient };

  explicit Begin(Side side = Side::kServer);
  ~Begin() override;

  // INVALID_ARGUMENT when the connection id is empty; otherwise the result of the rest of the
  // chain.
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // Number of connection ids with state (established, or with calls in flight).
  size_t size() const;

  // Closes every established connection through the rest of the chain, as a Close event would.
  // Returns the first error; every connection is closed regardless.
  absl::Status CloseAll();
  // Forgets every connection without closing anything downstream, releasing the rest of the chain.
  // Events fired later for them do nothing.
  void Abandon();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::sdk
