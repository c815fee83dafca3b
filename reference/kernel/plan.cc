#include "reference/kernel/plan.h"

#include <cctype>
#include <charconv>
#include <optional>
#include <utility>

#include "reference/kernel/str_util.h"

namespace nsmcert::kernel {
namespace {

using internal::Cat;

constexpr std::uint32_t kMinIpv4Mtu = 68;

absl::Status Invalid(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(Cat(field, ": ", what));
}

// Re-labels a parse error with the plan field it came from.
absl::Status InField(const absl::Status& s, std::string_view field) {
  if (s.ok()) return s;
  return absl::Status(s.code(), Cat(field, ": ", s.message()));
}

absl::StatusOr<std::uint8_t> ParseProto(std::string_view text, std::string_view field) {
  if (text.empty()) return std::uint8_t{0};
  if (text == "tcp") return std::uint8_t{6};
  if (text == "udp") return std::uint8_t{17};
  if (text == "sctp") return std::uint8_t{132};
  if (text == "icmp") return std::uint8_t{1};
  if (text == "icmpv6") return std::uint8_t{58};
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v > 255) {
    return Invalid(field, Cat("\"", text,
                              "\" is not an IANA protocol number 0..255 (or tcp, udp, sctp, icmp, "
                              "icmpv6)"));
  }
  return static_cast<std::uint8_t>(v);
}

// Parsed addresses of one side, in input order.
absl::StatusOr<std::vector<IpPrefix>> ParseAddresses(const std::vector<std::string>& addrs,
                                                     std::string_view field) {
  std::vector<IpPrefix> out;
  for (size_t i = 0; i < addrs.size(); ++i) {
    absl::StatusOr<IpPrefix> p = IpPrefix::Parse(addrs[i], Cat(field, "[", i, "]"));
    if (!p.ok()) return p.status();
    out.push_back(*p);
  }
  return out;
}

// Resolves one route per the next-hop rules documented in plan.h.
absl::StatusOr<RouteSpec> ResolveRoute(const RouteInput& in, std::string_view field,
                                       const std::vector<IpPrefix>& other_side,
                                       const std::string& device, std::uint32_t table) {
  absl::StatusOr<IpPrefix> prefix = IpPrefix::Parse(in.prefix, Cat(field, ".prefix"));
  if (!prefix.ok()) return prefix.status();
  RouteSpec route;
  route.prefix = prefix->Network().ToString();
  route.device = device;
  route.table = table;
  if (!in.next_hop.empty()) {
    absl::StatusOr<IpAddress> hop = IpAddress::Parse(in.next_hop, Cat(field, ".next_hop"));
    if (!hop.ok()) return hop.status();
    if (hop->family != prefix->family()) {
      return Invalid(Cat(field, ".next_hop"),
                     Cat(in.next_hop, " is not of the family of prefix ", in.prefix));
    }
    route.via = hop->ToString();
    route.onlink = true;
    return route;
  }
  for (const IpPrefix& other : other_side) {
    if (other.Network().Contains(*prefix)) return route;  // on-link
  }
  for (const IpPrefix& other : other_side) {
    if (other.family() == prefix->family()) {
      route.via = other.address.ToString();
      route.onlink = true;
      return route;
    }
  }
  return route;  // nobody on the other side of this family: directly on the interface
}

}  // namespace

std::uint32_t VxlanOverhead(IpFamily underlay_family) {
  return underlay_family == IpFamily::kV4 ? 54 : 74;
}

absl::StatusOr<std::uint32_t> VxlanMtu(std::uint32_t underlay_mtu, IpFamily underlay_family) {
  std::uint32_t overhead = VxlanOverhead(underlay_family);
  if (underlay_mtu < overhead + kMinIpv4Mtu) {
    return Invalid("underlay_mtu", Cat(underlay_mtu, " leaves less than ", kMinIpv4Mtu,
                                       " bytes after the VXLAN overhead of ", overhead));
  }
  return underlay_mtu - overhead;
}

absl::StatusOr<InterfacePlan> BuildInterfacePlan(const KernelInterfaceInput& input) {
  InterfacePlan plan;
  if (absl::Status s = ValidateNetNsRef(input.workload_netns); !s.ok()) {
    return InField(s, "workload_netns");
  }
  if (input.workload_netns.empty()) {
    return Invalid("workload_netns", "missing (the mechanism has no inodeURL)");
  }
  if (absl::Status s = ValidateNetNsRef(input.forwarder_netns); !s.ok()) {
    return InField(s, "forwarder_netns");
  }
  if (absl::Status s = ValidateIfName(input.interface_name, "interface_name"); !s.ok()) return s;
  if (absl::Status s = ValidateIfName(input.forwarder_interface_name, "forwarder_interface_name");
      !s.ok()) {
    return s;
  }
  if (input.mtu != 0 && input.mtu < kMinIpv4Mtu) {
    return Invalid("mtu", Cat(input.mtu, " is below the minimum of ", kMinIpv4Mtu));
  }
  if (!input.mac.empty()) {
    // Same check the netlink layer does, done here so a bad MAC fails before any syscall.
    bool ok = input.mac.size() == 17;
    for (size_t i = 0; ok && i < input.mac.size(); ++i) {
      char c = input.mac[i];
      ok = (i % 3 == 2) ? c == ':' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
    }
    if (!ok) return Invalid("mac", Cat("\"", input.mac, "\" is not aa:bb:cc:dd:ee:ff"));
  }
  plan.workload_netns = input.workload_netns;
  plan.forwarder_netns = input.forwarder_netns;
  plan.interface_name = input.interface_name;
  plan.forwarder_interface_name = input.forwarder_interface_name;
  plan.mtu = input.mtu;
  plan.mac = input.mac;
  plan.route_localnet = input.route_localnet;

  const IpContextInput& ip = input.ip_context;
  const bool client = input.side == ConnectionSide::kClient;
  absl::StatusOr<std::vector<IpPrefix>> src =
      ParseAddresses(ip.src_ip_addrs, "ip_context.src_ip_addrs");
  if (!src.ok()) return src.status();
  absl::StatusOr<std::vector<IpPrefix>> dst =
      ParseAddresses(ip.dst_ip_addrs, "ip_context.dst_ip_addrs");
  if (!dst.ok()) return dst.status();
  const std::vector<IpPrefix>& own = client ? *src : *dst;
  const std::vector<IpPrefix>& other = client ? *dst : *src;
  for (const IpPrefix& p : own) plan.addresses.push_back(p.ToString());

  const std::vector<RouteInput>& routes = client ? ip.src_routes : ip.dst_routes;
  const std::string routes_field = client ? "ip_context.src_routes" : "ip_context.dst_routes";
  for (size_t i = 0; i < routes.size(); ++i) {
    absl::StatusOr<RouteSpec> r = ResolveRoute(routes[i], Cat(routes_field, "[", i, "]"), other,
                                               plan.interface_name, kMainTable);
    if (!r.ok()) return r.status();
    plan.routes.push_back(*std::move(r));
  }

  for (size_t i = 0; i < ip.ip_neighbors.size(); ++i) {
    const NeighborInput& n = ip.ip_neighbors[i];
    const std::string field = Cat("ip_context.ip_neighbors[", i, "]");
    absl::StatusOr<IpAddress> addr = IpAddress::Parse(n.ip, Cat(field, ".ip"));
    if (!addr.ok()) return addr.status();
    bool mac_ok = n.mac.size() == 17;
    for (size_t j = 0; mac_ok && j < n.mac.size(); ++j) {
      char c = n.mac[j];
      mac_ok = (j % 3 == 2) ? c == ':' : std::isxdigit(static_cast<unsigned char>(c)) != 0;
    }
    if (!mac_ok) {
      return Invalid(Cat(field, ".hardware_address"), Cat("\"", n.mac, "\" is not a MAC"));
    }
    plan.neighbors.push_back(NeighborInput{addr->ToString(), n.mac});
  }

  for (size_t i = 0; i < ip.policies.size(); ++i) {
    const PolicyInput& policy = ip.policies[i];
    const std::string field = Cat("ip_context.policies[", i, "]");
    const std::uint32_t table = input.first_policy_table + static_cast<std::uint32_t>(i);
    if (table == 0 || table == kMainTable || table == kLocalTable || table == 253) {
      return Invalid(Cat(field, " table"),
                     Cat(table, " is a reserved table (first_policy_table is ",
                         input.first_policy_table, ")"));
    }
    RuleSpec rule;
    rule.table = table;
    if (input.policy_priority != 0) {
      rule.priority = input.policy_priority + static_cast<std::uint32_t>(i);
    }
    std::optional<IpFamily> family;
    if (!policy.from.empty()) {
      absl::StatusOr<IpPrefix> from =
          IpPrefix::Parse(policy.from, Cat(field, ".from"), /*allow_bare=*/true);
      if (!from.ok()) return from.status();
      rule.from = from->Network().ToString();
      family = from->family();
    }
    absl::StatusOr<std::uint8_t> proto = ParseProto(policy.proto, Cat(field, ".proto"));
    if (!proto.ok()) return proto.status();
    rule.ipproto = *proto;
    absl::StatusOr<PortRange> dport = ParsePortRange(policy.dst_port, Cat(field, ".dst_port"));
    if (!dport.ok()) return dport.status();
    absl::StatusOr<PortRange> sport = ParsePortRange(policy.src_port, Cat(field, ".src_port"));
    if (!sport.ok()) return sport.status();
    rule.dport = *dport;
    rule.sport = *sport;

    std::vector<RouteInput> policy_routes = policy.routes;
    if (policy_routes.empty()) {
      // "Empty = default route for matching traffic": towards the other side, per family.
      IpFamily fam = family.value_or(own.empty() ? IpFamily::kV4 : own.front().family());
      policy_routes.push_back(RouteInput{fam == IpFamily::kV4 ? "0.0.0.0/0" : "::/0", ""});
    }
    for (size_t j = 0; j < policy_routes.size(); ++j) {
      absl::StatusOr<RouteSpec> r = ResolveRoute(policy_routes[j], Cat(field, ".routes[", j, "]"),
                                                 other, plan.interface_name, table);
      if (!r.ok()) return r.status();
      absl::StatusOr<IpPrefix> rp = IpPrefix::Parse(r->prefix);
      if (family && rp.ok() && rp->family() != *family) {
        return Invalid(Cat(field, ".routes[", j, "].prefix"),
                       Cat(policy_routes[j].prefix, " is not of the family of from ", policy.from));
      }
      if (!family && rp.ok()) family = rp->family();
      plan.routes.push_back(*std::move(r));
    }
    rule.ipv6 = family == IpFamily::kV6;
    plan.rules.push_back(std::move(rule));
  }
  return plan;
}

absl::StatusOr<VxlanPlan> BuildVxlanPlan(const VxlanInput& input) {
  if (absl::Status s = ValidateNetNsRef(input.netns); !s.ok()) return InField(s, "netns");
  VxlanPlan plan;
  plan.netns = input.netns;
  plan.spec.name = input.name;
  plan.spec.vni = input.vni;
  plan.spec.local_ip = input.local_ip;
  plan.spec.remote_ip = input.remote_ip;
  plan.spec.dst_port = input.port == 0 ? kVxlanPort : input.port;
  plan.spec.underlay_device = input.underlay_device;
  plan.spec.learning = false;
  if (input.local_ip.empty()) return Invalid("local_ip", "missing");
  if (absl::Status s = ValidateVxlanSpec(plan.spec); !s.ok()) return s;
  IpFamily family = IpAddress::Parse(input.remote_ip)->family;
  if (input.underlay_mtu == 0) return Invalid("underlay_mtu", "missing");
  absl::StatusOr<std::uint32_t> own_mtu = VxlanMtu(input.underlay_mtu, family);
  if (!own_mtu.ok()) return own_mtu.status();
  if (input.mtu != 0 && input.mtu > *own_mtu) {
    return Invalid("mtu",
                   Cat(input.mtu, " exceeds the underlay MTU ", input.underlay_mtu,
                       " minus the VXLAN overhead ", VxlanOverhead(family), " (", *own_mtu, ")"));
  }
  if (input.mtu != 0 && input.mtu < kMinIpv4Mtu) {
    return Invalid("mtu", Cat(input.mtu, " is below the minimum of ", kMinIpv4Mtu));
  }
  plan.spec.mtu = input.mtu != 0 ? input.mtu : *own_mtu;
  return plan;
}

absl::StatusOr<XconnectPlan> BuildXconnectPlan(const XconnectInput& input) {
  if (absl::Status s = ValidateNetNsRef(input.netns); !s.ok()) return InField(s, "netns");
  if (absl::Status s = ValidateIfName(input.a, "a"); !s.ok()) return s;
  if (absl::Status s = ValidateIfName(input.b, "b"); !s.ok()) return s;
  if (input.a == input.b) return Invalid("b", Cat("\"", input.b, "\" is the same device as a"));
  return XconnectPlan{input.netns, input.a, input.b};
}

// ---- applier ----

namespace {

// Runs steps in order, remembering how to undo each; on the first failure undoes the done steps
// in reverse and reports the failing step (and any undo that failed too).
class StepRunner {
 public:
  StepRunner(std::string what, const PlanApplier::FaultInjector& injector)
      : what_(std::move(what)), injector_(injector) {}

  // `undo` may be empty when the step needs none (e.g. an address removed with its link).
  absl::Status Run(const std::string& description, const std::function<absl::Status()>& step,
                   std::function<absl::Status()> undo) {
    ++count_;
    absl::Status s = injector_ ? injector_(description) : absl::OkStatus();
    if (s.ok()) s = step();
    if (s.ok()) {
      if (undo) undos_.emplace_back(description, std::move(undo));
      return s;
    }
    std::string undo_errors;
    for (auto it = undos_.rbegin(); it != undos_.rend(); ++it) {
      absl::Status u = it->second();
      if (!u.ok() && !absl::IsNotFound(u))
        internal::Append(undo_errors, "; undo failed: ", u.message());
    }
    undos_.clear();
    return absl::Status(s.code(), Cat(what_, ": step ", count_, " (", description,
                                      ") failed: ", s.message(), undo_errors));
  }

 private:
  std::string what_;
  const PlanApplier::FaultInjector& injector_;
  int count_ = 0;
  std::vector<std::pair<std::string, std::function<absl::Status()>>> undos_;
};

std::string DescribeRuleStep(const RuleSpec& r) {
  std::string out = Cat("rule from ", r.from.empty() ? "all" : r.from, " table ", r.table);
  if (r.ipproto != 0) internal::Append(out, " ipproto ", r.ipproto);
  return out;
}

std::string DescribeRouteStep(const RouteSpec& r) {
  std::string out = Cat("route ", r.prefix);
  if (!r.via.empty()) internal::Append(out, " via ", r.via);
  internal::Append(out, " dev ", r.device, " table ", r.table);
  return out;
}

// Keeps the first non-OK status, ignoring NOT_FOUND (already gone).
void KeepFirstError(absl::Status& first, const absl::Status& s) {
  if (first.ok() && !s.ok() && !absl::IsNotFound(s)) first = s;
}

}  // namespace

PlanApplier::PlanApplier(NetNsResolver* resolver)
    : resolver_(resolver != nullptr ? resolver : &default_resolver_) {}

PlanApplier::SocketScope::SocketScope(PlanApplier& applier) : applier_(applier) {
  ++applier_.scope_depth_;
}

PlanApplier::SocketScope::~SocketScope() {
  if (--applier_.scope_depth_ > 0) return;
  // Close everything now: a socket or handle kept longer would keep its namespace alive.
  applier_.by_ref_.clear();
  applier_.sockets_.clear();
}

absl::StatusOr<PlanApplier::Socket*> PlanApplier::SocketIn(std::string_view ref,
                                                           std::string_view role) {
  if (scope_depth_ == 0) {
    return absl::FailedPreconditionError(
        Cat(role, " namespace \"", ref, "\": netlink socket asked for outside a SocketScope"));
  }
  if (auto it = by_ref_.find(ref); it != by_ref_.end()) return it->second;
  absl::StatusOr<NetNs> ns = resolver_->Resolve(ref);
  if (!ns.ok()) {
    return absl::Status(ns.status().code(),
                        Cat(role, " namespace \"", ref, "\": ", ns.status().message()));
  }
  // Two references may name one namespace ("" and the inode URL of the applier's own): one socket.
  for (const std::unique_ptr<Socket>& socket : sockets_) {
    if (socket->ns.SameAs(*ns)) {
      by_ref_.emplace(std::string(ref), socket.get());
      return socket.get();
    }
  }
  absl::StatusOr<std::unique_ptr<Netlink>> nl = Netlink::Open(*ns);
  if (!nl.ok()) {
    return absl::Status(nl.status().code(),
                        Cat(role, " namespace \"", ref, "\": ", nl.status().message()));
  }
  ++sockets_opened_;
  sockets_.push_back(std::make_unique<Socket>(Socket{*std::move(ns), *std::move(nl)}));
  by_ref_.emplace(std::string(ref), sockets_.back().get());
  return sockets_.back().get();
}

absl::StatusOr<Netlink*> PlanApplier::NetlinkIn(std::string_view ref, std::string_view role) {
  absl::StatusOr<Socket*> socket = SocketIn(ref, role);
  if (!socket.ok()) return socket.status();
  return (*socket)->netlink.get();
}

absl::Status PlanApplier::Apply(const InterfacePlan& plan) {
  const std::string what = Cat("apply kernel interface \"", plan.interface_name, "\"");
  SocketScope scope(*this);
  absl::StatusOr<Socket*> workload = SocketIn(plan.workload_netns, "workload");
  if (!workload.ok())
    return absl::Status(workload.status().code(), Cat(what, ": ", workload.status().message()));
  absl::StatusOr<Socket*> fwd = SocketIn(plan.forwarder_netns, "forwarder");
  if (!fwd.ok()) return absl::Status(fwd.status().code(), Cat(what, ": ", fwd.status().message()));
  const NetNs& workload_ns = (*workload)->ns;
  Netlink& wl = *(*workload)->netlink;
  Netlink& fw = *(*fwd)->netlink;

  StepRunner steps(what, fault_injector_);
  const std::string& name = plan.interface_name;
  const std::string& fwd_name = plan.forwarder_interface_name;
  // The workload end is created directly inside its namespace under its final name, so there is
  // no moment where it sits in the forwarder's namespace or under a temporary name.
  absl::Status s = steps.Run(
      Cat("create veth \"", fwd_name, "\" <-> \"", name, "\""),
      [&] { return fw.CreateVeth(fwd_name, name, &workload_ns, plan.mtu); },
      [&] { return fw.DeleteLink(fwd_name); });
  if (!s.ok()) return s;
  // Addresses, routes and neighbours on the veth go away with it; only rules need their own undo.
  if (!plan.mac.empty()) {
    s = steps.Run(Cat("set MAC of \"", name, "\""), [&] { return wl.SetMac(name, plan.mac); }, {});
    if (!s.ok()) return s;
  }
  if (plan.route_localnet) {
    s = steps.Run(Cat("enable route_localnet on \"", name, "\""),
                  [&] {
                    return WriteNetSysctl(workload_ns,
                                          Cat("net/ipv4/conf/", name, "/route_localnet"), "1");
                  },
                  {});
    if (!s.ok()) return s;
  }
  for (const std::string& cidr : plan.addresses) {
    s = steps.Run(Cat("add address ", cidr), [&] { return wl.AddAddress(name, cidr); }, {});
    if (!s.ok()) return s;
  }
  s = steps.Run(Cat("set \"", name, "\" up"), [&] { return wl.SetUp(name, true); }, {});
  if (!s.ok()) return s;
  s = steps.Run(Cat("set \"", fwd_name, "\" up"), [&] { return fw.SetUp(fwd_name, true); }, {});
  if (!s.ok()) return s;
  for (const RouteSpec& route : plan.routes) {
    s = steps.Run(Cat("add ", DescribeRouteStep(route)), [&] { return wl.AddRoute(route); }, {});
    if (!s.ok()) return s;
  }
  for (const NeighborInput& n : plan.neighbors) {
    s = steps.Run(Cat("add neighbour ", n.ip), [&] { return wl.AddNeighbor(name, n.ip, n.mac); },
                  {});
    if (!s.ok()) return s;
  }
  for (const RuleSpec& rule : plan.rules) {
    s = steps.Run(
        Cat("add ", DescribeRuleStep(rule)), [&] { return wl.AddRule(rule); },
        [&] { return wl.DeleteRule(rule); });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status PlanApplier::Remove(const InterfacePlan& plan) {
  const std::string what = Cat("remove kernel interface \"", plan.interface_name, "\"");
  absl::Status first;
  SocketScope scope(*this);
  absl::StatusOr<Netlink*> workload = NetlinkIn(plan.workload_netns, "workload");
  // A vanished workload namespace took its veth end, and with it the pair, along.
  if (!workload.ok() && !absl::IsNotFound(workload.status()))
    KeepFirstError(first, workload.status());
  if (workload.ok()) {
    for (auto it = plan.rules.rbegin(); it != plan.rules.rend(); ++it) {
      KeepFirstError(first, (*workload)->DeleteRule(*it));
    }
  }
  absl::StatusOr<Netlink*> fwd = NetlinkIn(plan.forwarder_netns, "forwarder");
  if (fwd.ok()) {
    KeepFirstError(first, (*fwd)->DeleteLink(plan.forwarder_interface_name));
  } else {
    KeepFirstError(first, fwd.status());
  }
  // If the forwarder end was already gone but the workload end somehow is not, remove it too.
  if (workload.ok()) KeepFirstError(first, (*workload)->DeleteLink(plan.interface_name));
  if (!first.ok()) return absl::Status(first.code(), Cat(what, ": ", first.message()));
  return absl::OkStatus();
}

absl::Status PlanApplier::Apply(const VxlanPlan& plan) {
  const std::string what = Cat("apply vxlan \"", plan.spec.name, "\"");
  SocketScope scope(*this);
  absl::StatusOr<Netlink*> nl = NetlinkIn(plan.netns, "forwarder");
  if (!nl.ok()) return absl::Status(nl.status().code(), Cat(what, ": ", nl.status().message()));
  Netlink& n = **nl;
  StepRunner steps(what, fault_injector_);
  absl::Status s = steps.Run(
      Cat("create vxlan \"", plan.spec.name, "\" vni ", plan.spec.vni),
      [&] { return n.CreateVxlan(plan.spec); }, [&] { return n.DeleteLink(plan.spec.name); });
  if (!s.ok()) return s;
  return steps.Run(Cat("set \"", plan.spec.name, "\" up"),
                   [&] { return n.SetUp(plan.spec.name, true); }, {});
}

absl::Status PlanApplier::Remove(const VxlanPlan& plan) {
  SocketScope scope(*this);
  absl::StatusOr<Netlink*> nl = NetlinkIn(plan.netns, "forwarder");
  absl::Status first;
  if (!nl.ok()) {
    KeepFirstError(first, nl.status());
  } else {
    KeepFirstError(first, (*nl)->DeleteLink(plan.spec.name));
  }
  if (!first.ok()) {
    return absl::Status(first.code(),
                        Cat("remove vxlan \"", plan.spec.name, "\": ", first.message()));
  }
  return absl::OkStatus();
}

absl::Status PlanApplier::Apply(const XconnectPlan& plan) {
  const std::string what = Cat("apply cross-connect \"", plan.a, "\" <-> \"", plan.b, "\"");
  SocketScope scope(*this);
  absl::StatusOr<Netlink*> nl = NetlinkIn(plan.netns, "forwarder");
  if (!nl.ok()) return absl::Status(nl.status().code(), Cat(what, ": ", nl.status().message()));
  Netlink& n = **nl;
  StepRunner steps(what, fault_injector_);
  absl::Status s = steps.Run(
      Cat("redirect ingress of \"", plan.a, "\" to \"", plan.b, "\""),
      [&] { return n.RedirectIngress(plan.a, plan.b); }, [&] { return n.RemoveRedirect(plan.a); });
  if (!s.ok()) return s;
  return steps.Run(
      Cat("redirect ingress of \"", plan.b, "\" to \"", plan.a, "\""),
      [&] { return n.RedirectIngress(plan.b, plan.a); }, [&] { return n.RemoveRedirect(plan.b); });
}

absl::Status PlanApplier::Remove(const XconnectPlan& plan) {
  SocketScope scope(*this);
  absl::StatusOr<Netlink*> nl = NetlinkIn(plan.netns, "forwarder");
  absl::Status first;
  if (!nl.ok()) {
    KeepFirstError(first, nl.status());
  } else {
    // A device that is already gone took its redirect with it.
    KeepFirstError(first, (*nl)->RemoveRedirect(plan.a));
    KeepFirstError(first, (*nl)->RemoveRedirect(plan.b));
  }
  if (!first.ok()) {
    return absl::Status(first.code(), Cat("remove cross-connect \"", plan.a, "\" <-> \"", plan.b,
                                          "\": ", first.message()));
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::kernel
