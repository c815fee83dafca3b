// The per-call context an element receives: deadline, cancellation, the clock, the gRPC metadata
// of the incoming call and for the next outgoing call, the authenticated peer, call-scoped values
// and the per-connection metadata the `metadata` element attaches.
//
// Threading: a Context belongs to one call and is used by one thread at a time, except for
// Cancel()/cancelled()/WaitCancelled()/OnCancel() and CancelRegistration, which are thread-safe.
// Copies share the cancellation state and the attached per-connection metadata, but own their
// deadline, metadata and values.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/time/time.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/value_map.h"

namespace nsmcert::sdk {

// gRPC metadata: lowercase keys, possibly repeated.
using Metadata = std::multimap<std::string, std::string>;

class Context {
 private:
  struct CancelState;

 public:
  // Keeps a callback registered with OnCancel(); destroying it (or assigning over it) unregisters
  // the callback. If the callback is running on another thread at that moment, unregistering
  // waits for it to return, so the callback may use anything that outlives its registration. A
  // callback must not destroy its own registration. Default-constructed: registers nothing.
  class CancelRegistration {
   public:
    CancelRegistration() = default;
    CancelRegistration(CancelRegistration&& other) noexcept;
    CancelRegistration& operator=(CancelRegistration&& other) noexcept;
    ~CancelRegistration();

   private:
    friend class Context;
    CancelRegistration(std::shared_ptr<CancelState> state, uint64_t id)
        : state_(std::move(state)), id_(id) {}
    void Reset();
    std::shared_ptr<CancelState> state_;
    uint64_t id_ = 0;
  };

  // A context on the real clock with no deadline.
  Context();
  explicit Context(Clock& clock);

  Clock& clock() const { return *clock_; }
  absl::Time Now() const { return clock_->Now(); }

  // absl::InfiniteFuture() when the call has no deadline.
  absl::Time deadline() const { return deadline_; }
  void set_deadline(absl::Time deadline) { deadline_ = deadline; }
  // Time left before the deadline (never negative; InfiniteDuration without a deadline).
  absl::Duration Remaining() const;

  // Cancellation, shared by copies. A probe (e.g. "has the gRPC client gone away?") is polled by
  // cancelled() and WaitCancelled() so that a server-side context notices a vanished caller.
  void Cancel();
  bool cancelled() const;
  void set_cancel_probe(std::function<bool()> probe);
  // Waits until cancelled or `timeout` elapsed (real time); returns cancelled().
  bool WaitCancelled(absl::Duration timeout) const;
  // Calls `callback` once, when this context or a copy is cancelled: on the thread that cancels
  // (Cancel(), or the thread whose cancelled()/WaitCancelled() found the probe true), or at once
  // on this thread when the context is already cancelled. It must not block. Nothing polls the
  // probe for this: a context whose cancellation only the probe can tell (has_cancel_probe(), a
  // server-side context) needs someone calling cancelled() for the callback to fire.
  [[nodiscard]] CancelRegistration OnCancel(std::function<void()> callback) const;
  bool has_cancel_probe() const;

  // Metadata of the incoming gRPC call, as received.
  const Metadata& incoming_metadata() const { return incoming_; }
  Metadata& mutable_incoming_metadata() { return incoming_; }
  // Metadata to attach to the next outgoing gRPC call made on behalf of this call.
  Metadata& outgoing_metadata() { return outgoing_; }
  const Metadata& outgoing_metadata() const { return outgoing_; }
  // Metadata received in the response headers of the last outgoing call (e.g. the registry path).
  Metadata& response_metadata() { return response_; }
  // Metadata to put into this call's own response headers.
  Metadata& response_headers() { return response_headers_; }

  // Returns the single value of `key` in incoming metadata, or "" when absent or repeated.
  std::string IncomingValue(const std::string& key) const;

  // The authenticated identity (SPIFFE id) of the caller, when the transport has one.
  const std::string& peer_identity() const { return peer_identity_; }
  void set_peer_identity(std::string id) { peer_identity_ = std::move(id); }
  // Whether the call arrived over a transport at all (false for in-process calls).
  bool has_peer() const { return has_peer_; }
  void set_has_peer(bool v) { has_peer_ = v; }

  // Values that live for this call only (copied with the context).
  ValueMap& values() { return *values_; }

  // Per-connection metadata attached by the `metadata` element; nullptr before it ran.
  // Server-side and client-side elements of one process keep separate maps.
  std::shared_ptr<ValueMap> connection_metadata(bool client_side) const {
    return client_side ? client_metadata_ : server_metadata_;
  }
  void set_connection_metadata(bool client_side, std::shared_ptr<ValueMap> m) {
    (client_side ? client_metadata_ : server_metadata_) = std::move(m);
  }

  // A fresh context for work that outlives this call (timers, background closes): same clock and
  // per-connection metadata, no deadline, no cancellation, no metadata.
  Context Detached() const;

 private:
  struct CancelState {
    mutable std::mutex mu;
    mutable std::condition_variable cv;
    bool cancelled = false;
    std::function<bool()> probe;
    // OnCancel callbacks not run yet, by registration id.
    std::map<uint64_t, std::function<void()>> callbacks;
    uint64_t next_id = 1;
    // While the callbacks run (outside `mu`), on which thread: unregistering waits for them.
    bool firing = false;
    std::thread::id firing_thread;
  };

  // Marks the state cancelled and runs the callbacks; `lock` holds state.mu and is held again on
  // return.
  static void FireLocked(CancelState& state, std::unique_lock<std::mutex>& lock);

  Clock* clock_;
  absl::Time deadline_ = absl::InfiniteFuture();
  std::shared_ptr<CancelState> cancel_;
  Metadata incoming_;
  Metadata outgoing_;
  Metadata response_;
  Metadata response_headers_;
  std::string peer_identity_;
  bool has_peer_ = false;
  std::shared_ptr<ValueMap> values_;
  std::shared_ptr<ValueMap> server_metadata_;
  std::shared_ptr<ValueMap> client_metadata_;
};

}  // namespace nsmcert::sdk
