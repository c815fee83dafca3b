// monitor (client side): DOWN propagation (spec 7, "Propagation"). For every connection a hop
// forwarded, it follows the next hop's MonitorConnections and republishes what happens there into
// the hop's own ConnectionMonitor, so that the hop's callers (and in the end the NSC's heal) learn
// that the path below broke.
//
// Guarantees:
// - After a successful Request with a ClientUrl in the context, a stream to that URL's monitor is
//   open with the selector {path_segments: [{name, id} of this hop's segment]}; a refresh to the
//   same URL keeps it, a new URL replaces it. Opening it fails the Request (what the rest of the
//   chain built is closed).
// - Events are mapped onto the hop's own view: its connection with the downstream path (index
//   reset to its own), context and state; a DELETE becomes state DOWN. They are published as
//   UPDATE. An event that changes nothing is suppressed, as is an initial transfer whose state
//   equals the known one. An initial transfer without the connection (the next hop no longer
//   holds it) counts as DOWN.
// - If the stream fails (the next hop died or restarted), UPDATE with state DOWN is published once
//   and the stream is not reopened; the next Request for the connection opens a new one.
// - Close stops following before the Close goes downstream, so a hop's own Close never shows up
//   as DOWN.
//
// Threading: one thread per followed connection, joined on Close and on destruction.
//
// Chain placement: a hop's client chain (nsmgr, forwarder, passthrough NSE), after the element that
// sets ClientUrl and before connect.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/elements/connection_event_stream.h"
#include "reference/sdk/elements/connection_monitor.h"

namespace nsmcert::sdk {

class MonitorClient final : public NetworkServiceElement {
 public:
  MonitorClient(std::shared_ptr<ConnectionMonitor> monitor, ConnectionEventStreamOpener open);
  ~MonitorClient() override;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // Number of connections being followed.
  size_t following() const;

 private:
  struct Follower;
  void Stop(const std::string& id);

  std::shared_ptr<ConnectionMonitor> monitor_;
  ConnectionEventStreamOpener open_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Follower>> followers_;
};

}  // namespace nsmcert::sdk
