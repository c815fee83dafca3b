// netns_monitor (forwarder, server side): closes a connection whose local endpoint went away
// (spec §10 "nsmonitor", §11: NSE death is also noticed by the forwarder).
//
// When an endpoint's network namespace is destroyed (its last process exited), the kernel deletes
// the devices in it; a veth end going takes its peer with it, so the forwarder-side device of the
// connection's outgoing KERNEL side vanishes from the forwarder's namespace. That is what this
// element watches: cheaply (one link listing per interval for all connections) and without holding
// the endpoint's namespace open, which would keep it alive.
//
// Guarantees:
// - After a successful Request whose next hop answered KERNEL, the connection's outgoing device is
//   watched; every `interval` on the clock the forwarder's links are listed. A device missing in
//   two listings in a row (a refresh that re-creates devices is not mistaken for a death) makes
//   the connection close through begin's EventFactory, i.e. through the whole server chain: the
//   monitor element publishes DELETE, the dataplane takes out the rest, the next hop is told.
// - A Request whose next hop is not local (VXLAN), and a Close, stop the watch.
// - Without a begin before it nothing is watched (there would be no way to close).
//
// Chain placement: the forwarder's server chain after begin and metadata, before dataplane.
// Threading: thread-safe; polls run on the clock's timer thread (FakeClock: inside Advance).
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reference/kernel/netns.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/clock.h"

namespace nsmcert::forwarder {

struct NetNsMonitorOptions {
  absl::Duration interval = absl::Seconds(1);
  // Lists the names of the links in the forwarder's namespace. Default: rtnetlink in
  // `forwarder_netns` (resolved by `resolver`, which must outlive the element).
  std::function<absl::StatusOr<std::set<std::string>>()> list_devices;
  std::string forwarder_netns;
  kernel::NetNsResolver* resolver = nullptr;
};

class NetNsMonitor final : public sdk::NetworkServiceElement {
 public:
  // `clock` must outlive the element.
  NetNsMonitor(sdk::Clock& clock, NetNsMonitorOptions options);
  ~NetNsMonitor() override;

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // Connections being watched.
  size_t watched() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace nsmcert::forwarder
