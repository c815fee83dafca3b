// The one chokepoint for rtnetlink: links, addresses, routes, policy rules, neighbours and the tc
// cross-connect.
//
// Raw rtnetlink, not libnl-route-3: the set of messages needed here is small and fixed, raw
// messages let every request carry NLM_F_EXCL/extended-ack so errors come back with the kernel's
// own text, the peer-namespace and tc u32/mirred attributes are written exactly as the kernel
// documents them (libnl's coverage of those varies by version), and there is no library-global
// cache to keep coherent across namespaces. Library code never runs `ip` or `tc`.
//
// A Netlink object owns one NETLINK_ROUTE socket. A netlink socket stays bound to the namespace
// it was created in, so Open() creates it on a thread inside the target namespace (or right on the
// calling thread when that is already the target's); afterwards every operation acts on that
// namespace, whichever thread calls it. Calls are serialised by an
// internal mutex, so one object may be shared between threads.
//
// Links are named by their interface name in this namespace. Errors name the link (or address,
// route, rule) and carry the kernel's errno text and extended-ack message. Mapping: EEXIST ->
// ALREADY_EXISTS, ENODEV/ENOENT/ESRCH/EADDRNOTAVAIL -> NOT_FOUND, EPERM/EACCES ->
// PERMISSION_DENIED, EINVAL/ERANGE -> INVALID_ARGUMENT, EBUSY -> FAILED_PRECONDITION, others
// INTERNAL. Validation errors (bad CIDR, name too long) are INVALID_ARGUMENT before any syscall.
#ifndef NSMCERT_REFERENCE_KERNEL_NETLINK_H_
#define NSMCERT_REFERENCE_KERNEL_NETLINK_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reference/kernel/ip.h"
#include "reference/kernel/netns.h"

namespace nsmcert::kernel {

// Linux limit for interface names, without the terminating NUL.
inline constexpr size_t kMaxIfNameLen = 15;
// Routing tables as the kernel numbers them.
inline constexpr std::uint32_t kMainTable = 254;
inline constexpr std::uint32_t kLocalTable = 255;
// The IANA VXLAN port.
inline constexpr std::uint16_t kVxlanPort = 4789;

// Checks an interface name: 1..15 bytes, no '/', ':' or whitespace, not "." or "..".
absl::Status ValidateIfName(std::string_view name, std::string_view field = "interface name");

struct LinkInfo {
  int index = 0;
  std::string name;
  std::string kind;  // "veth", "bridge", "vxlan", ... ; empty for devices without one (lo)
  std::uint32_t mtu = 0;
  bool up = false;       // administratively up (IFF_UP)
  std::string mac;       // "aa:bb:cc:dd:ee:ff", empty when the device has no L2 address
  int master_index = 0;  // 0 when not enslaved
  // For kind "vxlan" only: the tunnel parameters the kernel holds.
  std::uint32_t vxlan_vni = 0;
  std::string vxlan_remote;
  std::string vxlan_local;
  std::uint16_t vxlan_port = 0;
  int vxlan_underlay_index = 0;
  friend bool operator==(const LinkInfo&, const LinkInfo&) = default;
};

struct VxlanSpec {
  std::string name;
  std::uint32_t vni = 0;  // 1 .. 2^24-1
  std::string local_ip;   // source address of the tunnel; empty = kernel picks
  std::string remote_ip;  // unicast peer
  std::uint16_t dst_port = kVxlanPort;
  std::string underlay_device;  // empty = none (routing decides)
  bool learning = false;
  std::uint32_t mtu = 0;  // 0 = kernel default
};
// Field checks for VxlanSpec (name, VNI range, IPs of one family, port non-zero).
absl::Status ValidateVxlanSpec(const VxlanSpec& spec);

struct AddressInfo {
  int link_index = 0;
  std::string link;  // interface name
  std::string cidr;  // "10.0.0.1/31", "fd00::1/64"
  friend bool operator==(const AddressInfo&, const AddressInfo&) = default;
};

enum class RouteScope : std::uint8_t { kUniverse = 0, kLink = 253, kHost = 254 };

struct RouteSpec {
  std::string prefix;  // CIDR; "0.0.0.0/0" or "::/0" for a default route
  std::string via;     // next hop; empty = directly on `device`
  std::string device;  // output interface; may be empty only when `via` is set
  std::uint32_t table = kMainTable;
  std::string src;  // preferred source address; empty = none
  // Next hop is reachable on `device` even though no connected prefix covers it (RTNH_F_ONLINK).
  // Needed with the /32 (/128) point-to-point addresses NSM assigns.
  bool onlink = false;
  // Scope is derived: link when there is no `via`, universe otherwise.
  std::uint32_t metric = 0;
};

struct RouteInfo {
  std::string prefix;  // CIDR
  std::string via;     // empty when none
  std::string device;  // output interface name; empty when none
  std::uint32_t table = 0;
  std::string src;
  RouteScope scope = RouteScope::kUniverse;
  std::uint8_t protocol = 0;  // RTPROT_*
  std::uint8_t type = 0;      // RTN_*
  std::uint32_t metric = 0;
  bool onlink = false;
  friend bool operator==(const RouteInfo&, const RouteInfo&) = default;
};

struct PortRange {
  std::uint16_t start = 0;
  std::uint16_t end = 0;
  bool empty() const { return start == 0 && end == 0; }
  friend bool operator==(const PortRange&, const PortRange&) = default;
};
// Parses "80" or "8000-8080" (spec §3.3 PolicyRoute ports). Empty text gives an empty range.
absl::StatusOr<PortRange> ParsePortRange(std::string_view text, std::string_view field);

struct RuleSpec {
  // Family of the rule: taken from `from` when set, else `ipv6`.
  std::string from;  // source CIDR; empty = all
  bool ipv6 = false;
  std::uint8_t ipproto = 0;  // 0 = any
  PortRange dport;
  PortRange sport;
  std::uint32_t table = 0;     // must be set
  std::uint32_t priority = 0;  // 0 = kernel picks
  friend bool operator==(const RuleSpec&, const RuleSpec&) = default;
};

struct NeighborInfo {
  std::string link;
  std::string ip;
  std::string mac;
  bool permanent = false;
  friend bool operator==(const NeighborInfo&, const NeighborInfo&) = default;
};

class Netlink {
 public:
  // Opens a NETLINK_ROUTE socket inside `ns`: on a short-lived thread that entered it, or on the
  // calling thread without one when `ns` is that thread's own namespace (IsCallingThreadNetNs).
  // The socket pins `ns` while it is open.
  static absl::StatusOr<std::unique_ptr<Netlink>> Open(const NetNs& ns);
  // Opens a socket in the calling thread's namespace.
  static absl::StatusOr<std::unique_ptr<Netlink>> OpenCurrent();
  ~Netlink();
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // ---- links ----
  // A veth pair `name` <-> `peer_name`. With `peer_ns`, the peer is created directly inside that
  // namespace under `peer_name` (no rename race). `mtu` 0 keeps the kernel default; otherwise
  // both ends get it.
  absl::Status CreateVeth(std::string_view name, std::string_view peer_name,
                          const NetNs* peer_ns = nullptr, std::uint32_t mtu = 0);
  absl::Status CreateBridge(std::string_view name);
  absl::Status CreateVxlan(const VxlanSpec& spec);
  // Enslaves `link` to `master` (a bridge); empty master releases it.
  absl::Status SetMaster(std::string_view link, std::string_view master);
  // Moves `link` into `ns`, renamed to `new_name` when given. The link keeps its index only if
  // free there; it is down after the move.
  absl::Status MoveToNetNs(std::string_view link, const NetNs& ns, std::string_view new_name = "");
  absl::Status Rename(std::string_view link, std::string_view new_name);
  // SetUp, SetMtu and SetMac name the link in the request itself (IFLA_IFNAME), so they cost one
  // round trip and no index lookup. NOT_FOUND when there is no such link.
  absl::Status SetUp(std::string_view link, bool up);
  absl::Status SetMtu(std::string_view link, std::uint32_t mtu);
  absl::Status SetMac(std::string_view link, std::string_view mac);
  absl::Status DeleteLink(std::string_view name);
  absl::StatusOr<int> LinkIndex(std::string_view name);
  absl::StatusOr<LinkInfo> GetLink(std::string_view name);
  absl::StatusOr<std::vector<LinkInfo>> ListLinks();

  // ---- addresses ----
  absl::Status AddAddress(std::string_view link, std::string_view cidr);
  absl::Status DeleteAddress(std::string_view link, std::string_view cidr);
  // All addresses, or those of `link`. Sorted by link index, then as the kernel lists them.
  absl::StatusOr<std::vector<AddressInfo>> ListAddresses(std::string_view link = "");

  // ---- routes ----
  absl::Status AddRoute(const RouteSpec& route);  // fails with ALREADY_EXISTS on a duplicate
  absl::Status DeleteRoute(const RouteSpec& route);
  // Unicast, blackhole, ... routes of `table` (0 = all tables), IPv4 and IPv6. Includes the
  // kernel's own routes (connected prefixes, local table).
  absl::StatusOr<std::vector<RouteInfo>> ListRoutes(std::uint32_t table = kMainTable);

  // ---- policy rules ----
  absl::Status AddRule(const RuleSpec& rule);
  absl::Status DeleteRule(const RuleSpec& rule);
  // All rules of both families, including the kernel defaults (local/main/default).
  absl::StatusOr<std::vector<RuleSpec>> ListRules();

  // ---- neighbours ----
  // A permanent neighbour entry (replaces an existing one for the same ip on the link).
  absl::Status AddNeighbor(std::string_view link, std::string_view ip, std::string_view mac);
  absl::Status DeleteNeighbor(std::string_view link, std::string_view ip);
  // Neighbours with a MAC; only permanent ones when `permanent_only`.
  absl::StatusOr<std::vector<NeighborInfo>> ListNeighbors(std::string_view link = "",
                                                          bool permanent_only = true);

  // ---- tc cross-connect ----
  // Adds a clsact qdisc on `from_link` (if missing) and an ingress filter matching every frame (a
  // u32 catch-all: matchall is not built into every kernel) whose mirred action redirects it to
  // the egress of `to_link`. L2-transparent; run it both ways to join two devices. Fails if
  // `from_link` already has a redirect.
  absl::Status RedirectIngress(std::string_view from_link, std::string_view to_link);
  // Removes the clsact qdisc of `from_link`, and with it every filter on it. NOT_FOUND when there
  // was none.
  absl::Status RemoveRedirect(std::string_view from_link);
  // The index of the device `from_link`'s ingress is redirected to, or nullopt when none.
  absl::StatusOr<std::optional<int>> IngressRedirectTarget(std::string_view from_link);

 private:
  explicit Netlink(int fd);
  class Request;
  // Sends `req` and waits for the kernel's ack. `what` names the object for errors.
  absl::Status Transact(Request& req, std::string_view what);
  // Sends a dump (or a get) request and passes each reply message to `on_message`.
  template <class OnMessage>
  absl::Status Dump(Request& req, std::string_view what, OnMessage&& on_message);
  absl::Status SendLocked(Request& req);
  // IngressRedirectTarget of the link with index `from_index`, named `from_link` in errors.
  absl::StatusOr<std::optional<int>> IngressRedirectTargetOf(int from_index,
                                                             std::string_view from_link);
  // An RTM_NEWLINK that changes the existing link `link`, found by name by the kernel.
  Request ChangeLinkByName(std::string_view link);

  std::mutex mu_;
  int fd_ = -1;
  std::uint32_t seq_ = 0;
};

}  // namespace nsmcert::kernel

#endif  // NSMCERT_REFERENCE_KERNEL_NETLINK_H_
