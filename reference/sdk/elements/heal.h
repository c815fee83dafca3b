// heal (client side, NSC): notices that the path of an established connection broke and rebuilds
// it (spec 11). A skeleton of upstream's heal: control-plane detection and the reaction; the
// periodic data-plane liveness check of cmd-nsc is not run here (a liveness probe is only asked
// once a control-plane break was seen).
//
// Guarantees:
// - After a successful Request with a ClientUrl in the context, the element follows that URL's
//   MonitorConnections with the selector {path_segments: [{name, id} of this client's segment]}.
// - A break is an event that carries the connection with state DOWN (or deletes it), an initial
//   transfer without it, or a stream that fails for any reason other than our own cancel (the
//   nsmgr died or restarted).
// - On a break it fires, through begin's EventFactory: a plain re-Request when a liveness probe is
//   configured and reports the data plane alive; otherwise a reselect (Close of the old path, then
//   Request with mechanism and endpoint name cleared and state RESELECT_REQUESTED). A failed
//   attempt is retried every `retry_interval` until one succeeds or the connection is closed. The
//   attempt runs on the context's clock (a timer due at once), not on the monitor thread.
// - A reselect whose Request fails is retried the same way whoever fired it (this element, or
//   another one such as a data-path check, through EventOptions::reselect): the pending attempt is
//   kept per connection, apart from the monitor stream that the reselect's Close ends. Retries of
//   a failed reselect reselect again.
// - Close stops following before the Close goes downstream; a final Close (not the first half of
//   a reselect, see begin's Reselecting) also drops the pending attempt.
//
// Threading: one monitor thread per followed connection, joined on Close and on destruction.
//
// Chain placement: the NSC's client chain after begin, metadata and the element that sets
// ClientUrl, before the elements that talk to the next hop (spec 10: ... clienturl -> clientconn ->
// heal -> dial ...).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/elements/connection_event_stream.h"

namespace nsmcert::sdk {

struct HealOptions {
  // Data-plane liveness probe (e.g. pings between the connection's addresses); true = alive. When
  // unset every control-plane break leads to a reselect.
  std::function<bool(const connection::Connection&)> liveness;
  absl::Duration retry_interval = absl::Milliseconds(200);
};

class Heal final : public NetworkServiceElement {
 public:
  Heal(ConnectionEventStreamOpener open, HealOptions options = {});
  ~Heal() override;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // Number of connections being watched.
  size_t watching() const;
  // Number of heal attempts fired so far (successful or not).
  int attempts() const;
  // Number of connections with an attempt waiting on the clock.
  size_t pending() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::sdk
