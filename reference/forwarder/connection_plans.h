// What the kernel must hold for one connection through this forwarder, computed from the
// connection as the chain returned it (no syscalls; tested without root).
//
// A connection has two sides in the forwarder's namespace, each a device there:
// - incoming: toward the caller, by the mechanism the caller and this forwarder agreed on. KERNEL:
//   a veth pair whose workload end goes into the caller's namespace (client side of the IP
//   context: src addresses and routes). VXLAN: a tunnel to the forwarder that called through its
//   nsmgr (local = dst_ip, remote = src_ip).
// - outgoing: toward the next hop, by the mechanism the next hop chose. KERNEL: a veth pair whose
//   workload end goes into the endpoint's namespace (endpoint side: dst addresses and routes).
//   VXLAN: a tunnel to the remote forwarder (local = src_ip, remote = dst_ip).
// and a cross-connect joining the two forwarder-side devices (tc ingress redirects both ways).
//
// The forwarder-side devices are named from the connection id ("fwi-" / "fwo-" and 11 hex digits
// of a 64-bit FNV-1a hash), so the same connection always gets the same names, also after a
// restart of the forwarder, and other connections practically never share them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "connection.pb.h"
#include "reference/forwarder/tunnel.h"
#include "reference/kernel/plan.h"

namespace nsmcert::forwarder {

struct ForwarderDeviceNames {
  std::string incoming;
  std::string outgoing;
};
ForwarderDeviceNames DeviceNamesFor(std::string_view connection_id);

// One side: exactly one of the two plans is set.
struct SidePlan {
  std::optional<kernel::InterfacePlan> interface;
  std::optional<kernel::VxlanPlan> vxlan;
  // The device this side leaves in the forwarder's namespace.
  const std::string& device() const;
};

struct ConnectionPlans {
  SidePlan incoming;
  SidePlan outgoing;
  kernel::XconnectPlan xconnect;
};

struct PlanInputs {
  std::string connection_id;       // this forwarder's id of the connection
  connection::Mechanism incoming;  // as this forwarder's server side settled it
  connection::Mechanism outgoing;  // as the next hop returned it
  connectioncontext::ConnectionContext context;
  std::string forwarder_netns;  // where forwarder-side devices live; "" = the applier's own
  TunnelConfig tunnel;
};

// INVALID_ARGUMENT naming the side, mechanism and field on bad input: a missing or too long
// `name`, a missing `inodeURL`, a VXLAN parameter out of range or of the wrong parity, a bad CIDR
// in the IP context ("... ip_context.src_ip_addrs[0]: ..."), an unsupported mechanism type.
absl::StatusOr<ConnectionPlans> BuildConnectionPlans(const PlanInputs& inputs);

// Plain-data equality, for "did a refresh change anything?".
bool SamePlans(const SidePlan& a, const SidePlan& b);
bool SamePlans(const ConnectionPlans& a, const ConnectionPlans& b);

// One line per device and address, for logs.
std::string DescribePlans(const ConnectionPlans& plans);

}  // namespace nsmcert::forwarder
