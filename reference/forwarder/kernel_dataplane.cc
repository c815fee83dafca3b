#include "reference/forwarder/kernel_dataplane.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "reference/kernel/netlink.h"

namespace nsmcert::forwarder {
namespace {

absl::Status Annotate(const absl::Status& status, std::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(std::string(what), ": ", status.message()));
}

absl::Status ApplySide(kernel::PlanApplier& applier, const SidePlan& side) {
  if (side.interface.has_value()) return applier.Apply(*side.interface);
  if (side.vxlan.has_value()) return applier.Apply(*side.vxlan);
  return absl::OkStatus();
}

absl::Status RemoveSide(kernel::PlanApplier& applier, const SidePlan& side) {
  if (side.interface.has_value()) return applier.Remove(*side.interface);
  if (side.vxlan.has_value()) return applier.Remove(*side.vxlan);
  return absl::OkStatus();
}

void KeepFirstError(absl::Status& first, const absl::Status& next) {
  if (first.ok() && !next.ok()) first = next;
}

bool SameLink(const kernel::InterfacePlan& a, const kernel::InterfacePlan& b) {
  return a.workload_netns == b.workload_netns && a.forwarder_netns == b.forwarder_netns &&
         a.interface_name == b.interface_name &&
         a.forwarder_interface_name == b.forwarder_interface_name && a.mac == b.mac &&
         a.route_localnet == b.route_localnet;
}

auto RouteKey(const kernel::RouteSpec& r) {
  return std::tie(r.prefix, r.via, r.device, r.table, r.src, r.onlink, r.metric);
}

template <typename T, typename Eq>
bool Contains(const std::vector<T>& list, const T& item, Eq eq) {
  return std::any_of(list.begin(), list.end(), [&](const T& x) { return eq(x, item); });
}

bool SameRoute(const kernel::RouteSpec& a, const kernel::RouteSpec& b) {
  return RouteKey(a) == RouteKey(b);
}
bool SameNeighbor(const kernel::NeighborInput& a, const kernel::NeighborInput& b) {
  return a.ip == b.ip && a.mac == b.mac;
}

// Everything either plan holds, so that a Remove after a half-done update cleans up both.
kernel::InterfacePlan Union(const kernel::InterfacePlan& a, const kernel::InterfacePlan& b) {
  kernel::InterfacePlan u = b;
  for (const auto& x : a.addresses) {
    if (std::find(u.addresses.begin(), u.addresses.end(), x) == u.addresses.end()) {
      u.addresses.push_back(x);
    }
  }
  for (const auto& r : a.routes) {
    if (!Contains(u.routes, r, SameRoute)) u.routes.push_back(r);
  }
  for (const auto& n : a.neighbors) {
    if (!Contains(u.neighbors, n, SameNeighbor)) u.neighbors.push_back(n);
  }
  for (const auto& r : a.rules) {
    if (std::find(u.rules.begin(), u.rules.end(), r) == u.rules.end()) u.rules.push_back(r);
  }
  return u;
}

bool Gone(const absl::Status& s) { return s.ok() || absl::IsNotFound(s); }

}  // namespace

KernelDataplane::KernelDataplane(kernel::NetNsResolver* resolver)
    : resolver_(resolver != nullptr ? resolver : &default_resolver_) {}

void KernelDataplane::set_fault_injector(kernel::PlanApplier::FaultInjector injector) {
  fault_injector_ = std::move(injector);
}

absl::Status KernelDataplane::RemoveLeftovers(kernel::PlanApplier& applier,
                                              const ConnectionPlans& plans) {
  absl::StatusOr<kernel::Netlink*> nl = applier.NetlinkIn(plans.xconnect.netns, "forwarder");
  if (!nl.ok()) return nl.status();
  // A delete by name is the lookup too: a device that is not there is NOT_FOUND, nothing to do.
  for (const std::string* name : {&plans.incoming.device(), &plans.outgoing.device()}) {
    if (name->empty()) continue;
    absl::Status deleted = (*nl)->DeleteLink(*name);
    if (!Gone(deleted)) return Annotate(deleted, "removing a leftover device of this connection");
  }
  return absl::OkStatus();
}

absl::Status KernelDataplane::Apply(const ConnectionPlans& plans) {
  kernel::PlanApplier applier(resolver_);
  applier.set_fault_injector(fault_injector_);
  // One socket per namespace for the whole connection (leftovers, both sides, cross-connect and
  // any undo), closed when Apply returns.
  kernel::PlanApplier::SocketScope sockets(applier);
  if (absl::Status s = RemoveLeftovers(applier, plans); !s.ok()) return s;
  if (absl::Status s = ApplySide(applier, plans.incoming); !s.ok()) {
    return Annotate(s, "incoming side");
  }
  if (absl::Status s = ApplySide(applier, plans.outgoing); !s.ok()) {
    (void)RemoveSide(applier, plans.incoming);
    return Annotate(s, "outgoing side");
  }
  if (absl::Status s = applier.Apply(plans.xconnect); !s.ok()) {
    (void)RemoveSide(applier, plans.outgoing);
    (void)RemoveSide(applier, plans.incoming);
    return Annotate(s, "cross-connect");
  }
  return absl::OkStatus();
}

absl::Status KernelDataplane::Remove(const ConnectionPlans& plans) {
  kernel::PlanApplier applier(resolver_);
  applier.set_fault_injector(fault_injector_);
  kernel::PlanApplier::SocketScope sockets(applier);
  absl::Status first;
  KeepFirstError(first, Annotate(applier.Remove(plans.xconnect), "cross-connect"));
  KeepFirstError(first, Annotate(RemoveSide(applier, plans.outgoing), "outgoing side"));
  KeepFirstError(first, Annotate(RemoveSide(applier, plans.incoming), "incoming side"));
  return first;
}

absl::Status KernelDataplane::UpdateInterface(const kernel::InterfacePlan& current,
                                              const kernel::InterfacePlan& desired) {
  auto workload_ns = resolver_->Resolve(desired.workload_netns);
  if (!workload_ns.ok()) return workload_ns.status();
  auto nl = kernel::Netlink::Open(*workload_ns);
  if (!nl.ok()) return nl.status();
  kernel::Netlink& w = **nl;
  const std::string& link = desired.interface_name;

  if (current.mtu != desired.mtu && desired.mtu != 0) {
    auto fwd_ns = resolver_->Resolve(desired.forwarder_netns);
    if (!fwd_ns.ok()) return fwd_ns.status();
    auto fwd = kernel::Netlink::Open(*fwd_ns);
    if (!fwd.ok()) return fwd.status();
    if (absl::Status s = (*fwd)->SetMtu(desired.forwarder_interface_name, desired.mtu); !s.ok()) {
      return s;
    }
    if (absl::Status s = w.SetMtu(link, desired.mtu); !s.ok()) return s;
  }
  // Take out what is no longer wanted (rules and routes before the addresses they may use) ...
  for (const auto& rule : current.rules) {
    if (std::find(desired.rules.begin(), desired.rules.end(), rule) != desired.rules.end()) {
      continue;
    }
    if (absl::Status s = w.DeleteRule(rule); !Gone(s)) return s;
  }
  for (const auto& route : current.routes) {
    if (Contains(desired.routes, route, SameRoute)) continue;
    if (absl::Status s = w.DeleteRoute(route); !Gone(s)) return s;
  }
  for (const auto& neighbor : current.neighbors) {
    if (Contains(desired.neighbors, neighbor, SameNeighbor)) continue;
    if (absl::Status s = w.DeleteNeighbor(link, neighbor.ip); !Gone(s)) return s;
  }
  for (const auto& address : current.addresses) {
    if (std::find(desired.addresses.begin(), desired.addresses.end(), address) !=
        desired.addresses.end()) {
      continue;
    }
    if (absl::Status s = w.DeleteAddress(link, address); !Gone(s)) return s;
  }
  // ... then add what is new, addresses first.
  for (const auto& address : desired.addresses) {
    if (std::find(current.addresses.begin(), current.addresses.end(), address) !=
        current.addresses.end()) {
      continue;
    }
    if (absl::Status s = w.AddAddress(link, address); !s.ok()) return s;
  }
  for (const auto& neighbor : desired.neighbors) {
    if (Contains(current.neighbors, neighbor, SameNeighbor)) continue;
    if (absl::Status s = w.AddNeighbor(link, neighbor.ip, neighbor.mac); !s.ok()) return s;
  }
  for (const auto& route : desired.routes) {
    if (Contains(current.routes, route, SameRoute)) continue;
    if (absl::Status s = w.AddRoute(route); !s.ok()) return s;
  }
  for (const auto& rule : desired.rules) {
    if (std::find(current.rules.begin(), current.rules.end(), rule) != current.rules.end()) {
      continue;
    }
    if (absl::Status s = w.AddRule(rule); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status KernelDataplane::Update(const ConnectionPlans& current, const ConnectionPlans& desired,
                                     ConnectionPlans* held) {
  if (SamePlans(current, desired)) {
    *held = current;
    return absl::OkStatus();
  }
  // In place when only the addressing (or MTU) of KERNEL sides changed.
  auto in_place = [](const SidePlan& a, const SidePlan& b) {
    if (SamePlans(a, b)) return true;
    return a.interface.has_value() && b.interface.has_value() &&
           SameLink(*a.interface, *b.interface);
  };
  const bool same_xconnect = current.xconnect.netns == desired.xconnect.netns &&
                             current.xconnect.a == desired.xconnect.a &&
                             current.xconnect.b == desired.xconnect.b;
  if (same_xconnect && in_place(current.incoming, desired.incoming) &&
      in_place(current.outgoing, desired.outgoing)) {
    *held = current;
    for (auto [cur, want, out, name] :
         {std::tuple{&current.incoming, &desired.incoming, &held->incoming, "incoming side"},
          std::tuple{&current.outgoing, &desired.outgoing, &held->outgoing, "outgoing side"}}) {
      if (SamePlans(*cur, *want)) continue;
      absl::Status s = UpdateInterface(*cur->interface, *want->interface);
      if (!s.ok()) {
        out->interface = Union(*cur->interface, *want->interface);
        return Annotate(s, name);
      }
      *out = *want;
    }
    return absl::OkStatus();
  }
  // Anything else (another VNI, peer, namespace or mechanism type) re-creates the devices.
  absl::Status removed = Remove(current);
  if (!removed.ok()) {
    *held = current;
    return Annotate(removed, "re-creating the connection's devices");
  }
  *held = desired;
  return Annotate(Apply(desired), "re-creating the connection's devices");
}

}  // namespace nsmcert::forwarder
