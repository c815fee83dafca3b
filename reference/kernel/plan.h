// Plans first, syscalls second: plain descriptions of what the kernel should hold for one side of
// an NSM connection, built and validated by pure functions (testable without root), then executed
// by a PlanApplier that undoes what it did when a step fails.
//
// Three plans cover the reference data path (DESIGN.md "Data path"):
// - InterfacePlan: a KERNEL mechanism. A veth pair whose workload end sits in the NSC's (or NSE's)
//   namespace under the mechanism's `name`, with the addresses, routes, neighbours and policy rules
//   of the connection's IP context (spec §6); the other end stays in the forwarder's namespace.
// - VxlanPlan: a VXLAN mechanism. One VXLAN device in the forwarder's (node's) namespace.
// - XconnectPlan: joins two devices of the forwarder's namespace L2-transparently with tc ingress
//   redirects both ways.
//
// The types are independent of protobuf: the forwarder converts a Connection into these inputs.
// Namespaces are references that a NetNsResolver understands (see ValidateNetNsRef): an inode URL
// as NSM sends it, a file:// URL or path, a named namespace, or "" for the applier's own thread's
// namespace.
#ifndef NSMCERT_REFERENCE_KERNEL_PLAN_H_
#define NSMCERT_REFERENCE_KERNEL_PLAN_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reference/kernel/ip.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"

namespace nsmcert::kernel {

// ---- inputs (as the connection carries them, strings unparsed) ----

// Which side of the connection an interface is for. The client (NSC) side gets src_ip_addrs and
// src_routes, the endpoint (NSE) side dst_ip_addrs and dst_routes (spec §6).
enum class ConnectionSide { kClient, kEndpoint };

struct RouteInput {
  std::string prefix;    // CIDR
  std::string next_hop;  // empty: implied (see BuildInterfacePlan)
};

struct NeighborInput {
  std::string ip;
  std::string mac;
};

// connectioncontext.PolicyRoute.
struct PolicyInput {
  std::string from;      // source CIDR or address; empty = all sources
  std::string proto;     // IANA protocol number as text ("6"), or tcp/udp/sctp/icmp/icmpv6
  std::string dst_port;  // "80" or "8000-8080"; empty = any
  std::string src_port;
  std::vector<RouteInput> routes;  // empty: a default route via the other side
};

// The part of connectioncontext.IPContext that lands in a namespace.
struct IpContextInput {
  std::vector<std::string> src_ip_addrs;
  std::vector<std::string> dst_ip_addrs;
  std::vector<RouteInput> src_routes;
  std::vector<RouteInput> dst_routes;
  std::vector<NeighborInput> ip_neighbors;
  std::vector<PolicyInput> policies;
};

struct KernelInterfaceInput {
  ConnectionSide side = ConnectionSide::kClient;
  std::string workload_netns;            // the mechanism's inodeURL (or another NetNs reference)
  std::string interface_name;            // the mechanism's `name` parameter (<= 15 bytes)
  std::string forwarder_netns;           // "" = the namespace of the thread that applies the plan
  std::string forwarder_interface_name;  // the veth end left in the forwarder (<= 15 bytes)
  std::uint32_t mtu = 0;                 // ConnectionContext.MTU; 0 = kernel default
  std::string mac;                       // MAC for the workload end; empty = kernel's choice
  // The KERNEL mechanism's routeLocalNet parameter: let the workload end route 127/8 traffic
  // (sysctl net.ipv4.conf.<name>.route_localnet = 1).
  bool route_localnet = false;
  IpContextInput ip_context;
  // Policy i gets table first_policy_table + i (spec §6: tables 1, 2, ... in policy order) and,
  // when policy_priority is non-zero, rule priority policy_priority + i (0 lets the kernel pick).
  std::uint32_t first_policy_table = 1;
  std::uint32_t policy_priority = 0;
};

struct VxlanInput {
  std::string netns;  // the forwarder's (node's) namespace; "" = the applier's own
  std::string name;   // device name (<= 15 bytes)
  std::uint32_t vni = 0;
  std::string local_ip;            // this node's tunnel (underlay) address
  std::string remote_ip;           // the peer node's tunnel address
  std::uint16_t port = 0;          // 0 = 4789
  std::string underlay_device;     // optional
  std::uint32_t underlay_mtu = 0;  // MTU of the underlay interface; required
  // The negotiated mechanism MTU (min of both sides). 0 = this side's own: underlay_mtu - overhead.
  std::uint32_t mtu = 0;
};

struct XconnectInput {
  std::string netns;  // where both devices live; "" = the applier's own
  std::string a;
  std::string b;
};

// ---- plans (validated, resolved, ready to apply) ----

struct InterfacePlan {
  std::string workload_netns;
  std::string forwarder_netns;
  std::string interface_name;
  std::string forwarder_interface_name;
  std::uint32_t mtu = 0;
  std::string mac;
  bool route_localnet = false;
  std::vector<std::string> addresses;  // CIDRs on the workload end
  // Routes in the workload namespace, every one with device == interface_name and next hops
  // resolved; includes the routes of the policy tables.
  std::vector<RouteSpec> routes;
  std::vector<NeighborInput> neighbors;  // permanent, on the workload end
  std::vector<RuleSpec> rules;           // policy rules in the workload namespace
};

struct VxlanPlan {
  std::string netns;
  VxlanSpec spec;  // mtu always set
};

struct XconnectPlan {
  std::string netns;
  std::string a;
  std::string b;
};

// ---- pure builders ----

// VXLAN encapsulation overhead on the underlay, as upstream counts it: 54 bytes over IPv4, 74 over
// IPv6 (outer IP 20/40 + UDP 8 + VXLAN 8 + inner Ethernet 14 + a 4-byte VLAN tag).
std::uint32_t VxlanOverhead(IpFamily underlay_family);
// underlay_mtu - VxlanOverhead; INVALID_ARGUMENT when the result would be below the IPv4 minimum
// (68).
absl::StatusOr<std::uint32_t> VxlanMtu(std::uint32_t underlay_mtu, IpFamily underlay_family);

// Builds the plan for one KERNEL interface. Validation errors are INVALID_ARGUMENT naming the field
// ("interface_name", "ip_context.src_ip_addrs[1]", "ip_context.policies[0].proto", ...).
//
// Route next hops (spec §6), for the routes of this side (src_routes on the client side, dst_routes
// on the endpoint side) and for policy routes:
// - an explicit next_hop is used as is, marked on-link (NSM's /32 and /128 addresses leave no
//   connected prefix that would cover it);
// - otherwise, if the prefix lies inside one of the other side's address prefixes, the route is
//   directly on the interface (scope link);
// - otherwise the next hop is the first address of the other side of the same family, on-link;
// - with no such address, the route is directly on the interface.
absl::StatusOr<InterfacePlan> BuildInterfacePlan(const KernelInterfaceInput& input);

// Builds a VXLAN plan: VNI in 1..2^24-1, addresses of one family, MTU from the underlay MTU (or the
// negotiated one, which must not exceed it).
absl::StatusOr<VxlanPlan> BuildVxlanPlan(const VxlanInput& input);

// Builds a cross-connect plan: two distinct valid interface names.
absl::StatusOr<XconnectPlan> BuildXconnectPlan(const XconnectInput& input);

// ---- applier ----

// Executes plans step by step in the namespaces they name. If a step fails, the steps already done
// are undone in reverse order before the error is returned, so a failed Apply leaves the namespaces
// as they were. Remove undoes a whole applied plan (a connection's Close); it is idempotent: what
// is already gone is skipped, so it also cleans up after a partial failure or a restart.
//
// Namespaces are entered only to open netlink sockets (on a dedicated thread, and not even that for
// the calling thread's own namespace); the caller's thread never changes namespace. Each call opens
// at most one socket per namespace and closes them before it returns, unless a SocketScope keeps
// them for several calls. Not thread-safe: use one applier per thread, or serialise calls.
class PlanApplier {
 public:
  // Keeps the sockets (and namespace handles) the applier opens, one per namespace, from its
  // construction until the outermost scope ends, so the calls of one operation (a connection's two
  // sides and its cross-connect, or their undo) share them. Never keep a scope beyond one
  // operation: an open socket or handle pins its namespace, so a deleted pod namespace would live
  // on. Scopes nest; the applier must outlive them.
  class SocketScope {
   public:
    explicit SocketScope(PlanApplier& applier);
    ~SocketScope();
    SocketScope(const SocketScope&) = delete;
    SocketScope& operator=(const SocketScope&) = delete;

   private:
    PlanApplier& applier_;
  };

  // `resolver` turns the plans' namespace references into handles; nullptr = a ProcNetNsResolver.
  // Not owned; must outlive the applier.
  explicit PlanApplier(NetNsResolver* resolver = nullptr);
  PlanApplier(const PlanApplier&) = delete;
  PlanApplier& operator=(const PlanApplier&) = delete;

  // The applier's socket in the namespace `ref` names (resolved as the plans' references are),
  // opened on first use; valid until the current SocketScope ends. FAILED_PRECONDITION outside a
  // scope. Errors name `role` ("forwarder", "workload") and the reference.
  absl::StatusOr<Netlink*> NetlinkIn(std::string_view ref, std::string_view role);

  // How many sockets the applier has opened since it was made, for tests of the sharing.
  int sockets_opened() const { return sockets_opened_; }

  // Called before every step with its description ("add route ..."); a non-OK status fails that
  // step as if the kernel had refused it. For tests that check the undo path.
  using FaultInjector = std::function<absl::Status(std::string_view step)>;
  void set_fault_injector(FaultInjector injector) { fault_injector_ = std::move(injector); }

  absl::Status Apply(const InterfacePlan& plan);
  absl::Status Remove(const InterfacePlan& plan);
  absl::Status Apply(const VxlanPlan& plan);
  absl::Status Remove(const VxlanPlan& plan);
  absl::Status Apply(const XconnectPlan& plan);
  absl::Status Remove(const XconnectPlan& plan);

 private:
  // One namespace's handle and socket, shared by every reference that resolves to it.
  struct Socket {
    NetNs ns;
    std::unique_ptr<Netlink> netlink;
  };
  absl::StatusOr<Socket*> SocketIn(std::string_view ref, std::string_view role);

  ProcNetNsResolver default_resolver_;
  NetNsResolver* resolver_;
  FaultInjector fault_injector_;
  int scope_depth_ = 0;
  int sockets_opened_ = 0;
  std::vector<std::unique_ptr<Socket>> sockets_;
  // Reference text -> socket, so a reference is resolved once per scope.
  std::map<std::string, Socket*, std::less<>> by_ref_;
};

}  // namespace nsmcert::kernel

#endif  // NSMCERT_REFERENCE_KERNEL_PLAN_H_
