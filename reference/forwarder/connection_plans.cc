#include "reference/forwarder/connection_plans.h"

#include <cstdio>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/mechanism_checks.h"

namespace nsmcert::forwarder {
namespace {

namespace param = api::param;

std::uint64_t Fnv1a64(std::string_view text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::string HashedName(std::string_view prefix, std::string_view id) {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(Fnv1a64(id)));
  // 4 + 11 = 15 bytes, the Linux limit.
  return absl::StrCat(std::string(prefix), std::string(hex, 11));
}

absl::Status Side(const absl::Status& status, std::string_view side,
                  const connection::Mechanism& mechanism) {
  return absl::Status(status.code(), absl::StrCat(std::string(side), " (", mechanism.type(),
                                                  " mechanism): ", status.message()));
}

kernel::RouteInput ToRoute(const connectioncontext::Route& route) {
  kernel::RouteInput r;
  r.prefix = route.prefix();
  r.next_hop = route.nexthop();
  return r;
}

kernel::IpContextInput ToIpContext(const connectioncontext::IPContext& ip) {
  kernel::IpContextInput in;
  in.src_ip_addrs.assign(ip.src_ip_addrs().begin(), ip.src_ip_addrs().end());
  in.dst_ip_addrs.assign(ip.dst_ip_addrs().begin(), ip.dst_ip_addrs().end());
  for (const auto& r : ip.src_routes()) in.src_routes.push_back(ToRoute(r));
  for (const auto& r : ip.dst_routes()) in.dst_routes.push_back(ToRoute(r));
  for (const auto& n : ip.ip_neighbors()) {
    kernel::NeighborInput neighbor;
    neighbor.ip = n.ip();
    neighbor.mac = n.hardware_address();
    in.ip_neighbors.push_back(neighbor);
  }
  for (const auto& p : ip.policies()) {
    kernel::PolicyInput policy;
    policy.from = p.from();
    policy.proto = p.proto();
    policy.dst_port = p.dst_port();
    policy.src_port = p.src_port();
    for (const auto& r : p.routes()) policy.routes.push_back(ToRoute(r));
    in.policies.push_back(policy);
  }
  return in;
}

absl::StatusOr<kernel::InterfacePlan> KernelSide(const PlanInputs& inputs,
                                                 const connection::Mechanism& mechanism,
                                                 kernel::ConnectionSide side,
                                                 const std::string& device) {
  if (absl::Status s = CheckNetNsParam(mechanism); !s.ok()) return s;
  if (absl::Status s = CheckInterfaceNameParam(mechanism); !s.ok()) return s;
  kernel::KernelInterfaceInput in;
  in.side = side;
  in.workload_netns = Param(mechanism, param::kInodeUrl);
  in.interface_name = Param(mechanism, param::kName);
  in.forwarder_netns = inputs.forwarder_netns;
  in.forwarder_interface_name = device;
  in.mtu = inputs.context.mtu();
  in.route_localnet = Param(mechanism, param::kRouteLocalNet) == "true";
  in.ip_context = ToIpContext(inputs.context.ip_context());
  return kernel::BuildInterfacePlan(in);
}

// `local_key`/`remote_key`: which tunnel address is this node's (dst_ip on the incoming side,
// src_ip on the outgoing side).
absl::StatusOr<kernel::VxlanPlan> VxlanSide(const PlanInputs& inputs,
                                            const connection::Mechanism& mechanism,
                                            std::string_view local_key, std::string_view remote_key,
                                            const std::string& device) {
  auto local = IpParam(mechanism, local_key);
  if (!local.ok()) return local.status();
  if (*local != inputs.tunnel.ip) {
    return ParamError(
        mechanism, local_key,
        absl::StrCat(*local, " is not this node's tunnel address ", inputs.tunnel.ip));
  }
  auto remote = IpParam(mechanism, remote_key);
  if (!remote.ok()) return remote.status();
  auto vni = VniParam(mechanism);
  if (!vni.ok()) return vni.status();
  // A Linux VXLAN device sends to and listens on one port: the receiving side's (dst_port).
  auto port = PortParam(mechanism, param::kDstPort, inputs.tunnel.port);
  if (!port.ok()) return port.status();
  auto mtu = MtuParam(mechanism);
  if (!mtu.ok()) return mtu.status();
  kernel::VxlanInput in;
  in.netns = inputs.forwarder_netns;
  in.name = device;
  in.vni = *vni;
  in.local_ip = *local;
  in.remote_ip = *remote;
  in.port = *port;
  in.underlay_device = inputs.tunnel.device;
  in.underlay_mtu = inputs.tunnel.underlay_mtu;
  in.mtu = *mtu;
  return kernel::BuildVxlanPlan(in);
}

absl::StatusOr<SidePlan> BuildSide(const PlanInputs& inputs, const connection::Mechanism& mechanism,
                                   bool incoming, const std::string& device) {
  const std::string_view side_name = incoming ? "incoming side" : "outgoing side";
  SidePlan plan;
  if (mechanism.type() == api::mechanism::kKernel) {
    auto iface = KernelSide(
        inputs, mechanism,
        incoming ? kernel::ConnectionSide::kClient : kernel::ConnectionSide::kEndpoint, device);
    if (!iface.ok()) return Side(iface.status(), side_name, mechanism);
    plan.interface = *std::move(iface);
    return plan;
  }
  if (mechanism.type() == api::mechanism::kVxlan) {
    auto vxlan = incoming ? VxlanSide(inputs, mechanism, param::kDstIp, param::kSrcIp, device)
                          : VxlanSide(inputs, mechanism, param::kSrcIp, param::kDstIp, device);
    if (!vxlan.ok()) return Side(vxlan.status(), side_name, mechanism);
    plan.vxlan = *std::move(vxlan);
    return plan;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(side_name), ": unsupported mechanism type \"", mechanism.type(),
                   "\" (this forwarder programs KERNEL and VXLAN)"));
}

auto RouteKey(const kernel::RouteSpec& r) {
  return std::tie(r.prefix, r.via, r.device, r.table, r.src, r.onlink, r.metric);
}

bool SameRoutes(const std::vector<kernel::RouteSpec>& a, const std::vector<kernel::RouteSpec>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (RouteKey(a[i]) != RouteKey(b[i])) return false;
  }
  return true;
}

bool SameNeighbors(const std::vector<kernel::NeighborInput>& a,
                   const std::vector<kernel::NeighborInput>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].ip != b[i].ip || a[i].mac != b[i].mac) return false;
  }
  return true;
}

bool SameInterface(const kernel::InterfacePlan& a, const kernel::InterfacePlan& b) {
  return a.workload_netns == b.workload_netns && a.forwarder_netns == b.forwarder_netns &&
         a.interface_name == b.interface_name &&
         a.forwarder_interface_name == b.forwarder_interface_name && a.mtu == b.mtu &&
         a.mac == b.mac && a.route_localnet == b.route_localnet && a.addresses == b.addresses &&
         SameRoutes(a.routes, b.routes) && SameNeighbors(a.neighbors, b.neighbors) &&
         a.rules == b.rules;
}

bool SameVxlan(const kernel::VxlanPlan& a, const kernel::VxlanPlan& b) {
  const kernel::VxlanSpec& x = a.spec;
  const kernel::VxlanSpec& y = b.spec;
  return a.netns == b.netns &&
         std::tie(x.name, x.vni, x.local_ip, x.remote_ip, x.dst_port, x.underlay_device, x.learning,
                  x.mtu) == std::tie(y.name, y.vni, y.local_ip, y.remote_ip, y.dst_port,
                                     y.underlay_device, y.learning, y.mtu);
}

std::string DescribeSide(const SidePlan& side) {
  if (side.interface.has_value()) {
    const kernel::InterfacePlan& p = *side.interface;
    return absl::StrCat("veth ", p.forwarder_interface_name, " <-> ", p.interface_name, " in ",
                        p.workload_netns, " [", absl::StrJoin(p.addresses, ","), "] mtu ", p.mtu);
  }
  if (side.vxlan.has_value()) {
    const kernel::VxlanSpec& s = side.vxlan->spec;
    return absl::StrCat("vxlan ", s.name, " vni ", s.vni, " ", s.local_ip, " -> ", s.remote_ip, ":",
                        s.dst_port, " mtu ", s.mtu);
  }
  return "none";
}

}  // namespace

ForwarderDeviceNames DeviceNamesFor(std::string_view connection_id) {
  return {HashedName("fwi-", connection_id), HashedName("fwo-", connection_id)};
}

const std::string& SidePlan::device() const {
  static const std::string kNone;
  if (interface.has_value()) return interface->forwarder_interface_name;
  if (vxlan.has_value()) return vxlan->spec.name;
  return kNone;
}

absl::StatusOr<ConnectionPlans> BuildConnectionPlans(const PlanInputs& inputs) {
  if (inputs.connection_id.empty()) {
    return absl::InvalidArgumentError("connection id: empty");
  }
  const ForwarderDeviceNames names = DeviceNamesFor(inputs.connection_id);
  auto incoming = BuildSide(inputs, inputs.incoming, /*incoming=*/true, names.incoming);
  if (!incoming.ok()) return incoming.status();
  auto outgoing = BuildSide(inputs, inputs.outgoing, /*incoming=*/false, names.outgoing);
  if (!outgoing.ok()) return outgoing.status();
  kernel::XconnectInput xin;
  xin.netns = inputs.forwarder_netns;
  xin.a = names.incoming;
  xin.b = names.outgoing;
  auto xconnect = kernel::BuildXconnectPlan(xin);
  if (!xconnect.ok()) return xconnect.status();
  ConnectionPlans plans;
  plans.incoming = *std::move(incoming);
  plans.outgoing = *std::move(outgoing);
  plans.xconnect = *std::move(xconnect);
  return plans;
}

bool SamePlans(const SidePlan& a, const SidePlan& b) {
  if (a.interface.has_value() != b.interface.has_value()) return false;
  if (a.vxlan.has_value() != b.vxlan.has_value()) return false;
  if (a.interface.has_value() && !SameInterface(*a.interface, *b.interface)) return false;
  if (a.vxlan.has_value() && !SameVxlan(*a.vxlan, *b.vxlan)) return false;
  return true;
}

bool SamePlans(const ConnectionPlans& a, const ConnectionPlans& b) {
  return SamePlans(a.incoming, b.incoming) && SamePlans(a.outgoing, b.outgoing) &&
         a.xconnect.netns == b.xconnect.netns && a.xconnect.a == b.xconnect.a &&
         a.xconnect.b == b.xconnect.b;
}

std::string DescribePlans(const ConnectionPlans& plans) {
  return absl::StrCat("incoming ", DescribeSide(plans.incoming), "; outgoing ",
                      DescribeSide(plans.outgoing), "; xconnect ", plans.xconnect.a, " <-> ",
                      plans.xconnect.b);
}

}  // namespace nsmcert::forwarder
