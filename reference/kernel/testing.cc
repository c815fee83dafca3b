#include "reference/kernel/testing.h"

#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <random>

#include "reference/kernel/ip.h"
#include "reference/kernel/str_util.h"

namespace nsmcert::kernel::testing {

using internal::Cat;

std::string UniqueNetNsName(std::string_view prefix) {
  static std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string suffix;
  std::uint64_t r = rng();
  for (int i = 0; i < 6; ++i) suffix.push_back(hex[(r >> (4 * i)) & 0xf]);
  return Cat(prefix, "-", getpid(), "-", suffix);
}

absl::StatusOr<TestNetNs> TestNetNs::Create(std::string_view prefix) {
  absl::StatusOr<ScopedNamedNetNs> scoped = ScopedNamedNetNs::Create(UniqueNetNsName(prefix));
  if (!scoped.ok()) return scoped.status();
  absl::StatusOr<std::unique_ptr<Netlink>> nl = Netlink::Open(scoped->ns());
  if (!nl.ok()) return nl.status();
  if (absl::Status up = (*nl)->SetUp("lo", true); !up.ok()) return up;
  return TestNetNs(*std::move(scoped), *std::move(nl));
}

absl::StatusOr<NetNsSnapshot> TakeSnapshot(Netlink& nl) {
  NetNsSnapshot snap;
  absl::StatusOr<std::vector<LinkInfo>> links = nl.ListLinks();
  if (!links.ok()) return links.status();
  std::map<int, std::string> names;
  for (const LinkInfo& l : *links) names[l.index] = l.name;
  for (const LinkInfo& l : *links) {
    snap.lines.push_back(Cat("link ", l.name, " kind=", l.kind, " mtu=", l.mtu,
                             l.up ? " up" : " down", " mac=", l.mac,
                             " master=", l.master_index ? names[l.master_index] : "-"));
    absl::StatusOr<std::optional<int>> redirect = nl.IngressRedirectTarget(l.name);
    if (!redirect.ok()) return redirect.status();
    if (redirect->has_value()) {
      snap.lines.push_back(Cat("redirect ", l.name, " -> ", names[**redirect]));
    }
  }
  absl::StatusOr<std::vector<AddressInfo>> addrs = nl.ListAddresses();
  if (!addrs.ok()) return addrs.status();
  for (const AddressInfo& a : *addrs) snap.lines.push_back(Cat("addr ", a.link, " ", a.cidr));
  absl::StatusOr<std::vector<RouteInfo>> routes = nl.ListRoutes(0);
  if (!routes.ok()) return routes.status();
  for (const RouteInfo& r : *routes) {
    snap.lines.push_back(Cat("route table=", r.table, " ", r.prefix, " via=", r.via,
                             " dev=", r.device, " src=", r.src,
                             " scope=", static_cast<int>(r.scope), " proto=", r.protocol,
                             " type=", r.type, " metric=", r.metric, r.onlink ? " onlink" : ""));
  }
  absl::StatusOr<std::vector<RuleSpec>> rules = nl.ListRules();
  if (!rules.ok()) return rules.status();
  for (const RuleSpec& r : *rules) {
    snap.lines.push_back(Cat("rule ", r.ipv6 ? "v6" : "v4", " prio=", r.priority, " from=", r.from,
                             " ipproto=", r.ipproto, " sport=", r.sport.start, "-", r.sport.end,
                             " dport=", r.dport.start, "-", r.dport.end, " table=", r.table));
  }
  absl::StatusOr<std::vector<NeighborInfo>> neighbors = nl.ListNeighbors();
  if (!neighbors.ok()) return neighbors.status();
  for (const NeighborInfo& n : *neighbors) {
    snap.lines.push_back(Cat("neigh ", n.link, " ", n.ip, " ", n.mac));
  }
  std::sort(snap.lines.begin(), snap.lines.end());
  return snap;
}

std::string DiffSnapshots(const NetNsSnapshot& before, const NetNsSnapshot& after) {
  std::string out;
  for (const std::string& line : after.lines) {
    if (!std::binary_search(before.lines.begin(), before.lines.end(), line)) {
      internal::Append(out, "+ ", line, "\n");
    }
  }
  for (const std::string& line : before.lines) {
    if (!std::binary_search(after.lines.begin(), after.lines.end(), line)) {
      internal::Append(out, "- ", line, "\n");
    }
  }
  return out;
}

namespace {

std::uint16_t Checksum(const std::uint8_t* data, size_t len) {
  std::uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (len % 2) sum += data[len - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

absl::StatusOr<int> PingHere(const IpAddress& dst, int count, int timeout_ms) {
  const bool v6 = dst.family == IpFamily::kV6;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_RAW | SOCK_CLOEXEC,
                  v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
  if (fd < 0) return absl::InternalError(Cat("raw ICMP socket: ", std::strerror(errno)));
  sockaddr_storage to{};
  socklen_t to_len = 0;
  if (v6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&to);
    sin6->sin6_family = AF_INET6;
    std::memcpy(&sin6->sin6_addr, dst.bytes.data(), 16);
    to_len = sizeof(*sin6);
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&to);
    sin->sin_family = AF_INET;
    std::memcpy(&sin->sin_addr, dst.bytes.data(), 4);
    to_len = sizeof(*sin);
  }
  const std::uint16_t id = static_cast<std::uint16_t>(getpid() ^ gettid());
  int replies = 0;
  for (int seq = 1; seq <= count; ++seq) {
    std::uint8_t pkt[64] = {};
    pkt[0] = static_cast<std::uint8_t>(v6 ? int{ICMP6_ECHO_REQUEST} : int{ICMP_ECHO});
    pkt[4] = id >> 8;
    pkt[5] = id & 0xff;
    pkt[6] = static_cast<std::uint8_t>(seq >> 8);
    pkt[7] = static_cast<std::uint8_t>(seq & 0xff);
    std::memcpy(pkt + 8, "nsmcert-kernel-ping", 19);
    if (!v6) {  // the kernel fills the ICMPv6 checksum itself
      std::uint16_t sum = Checksum(pkt, sizeof(pkt));
      pkt[2] = sum >> 8;
      pkt[3] = sum & 0xff;
    }
    if (sendto(fd, pkt, sizeof(pkt), 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0) {
      int err = errno;
      close(fd);
      return absl::UnavailableError(
          Cat("send echo request to ", dst.ToString(), ": ", std::strerror(err)));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    bool got = false;
    while (!got) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now())
                      .count();
      if (left <= 0) break;
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      std::uint8_t buf[2048];
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      const std::uint8_t* icmp = buf;
      ssize_t icmp_len = n;
      if (!v6) {  // IPv4 raw sockets deliver the IP header too
        size_t ihl = (buf[0] & 0x0f) * 4u;
        icmp = buf + ihl;
        icmp_len = n - static_cast<ssize_t>(ihl);
      }
      if (icmp_len < 8) continue;
      const int want_type = v6 ? int{ICMP6_ECHO_REPLY} : int{ICMP_ECHOREPLY};
      if (icmp[0] == want_type && ((icmp[4] << 8) | icmp[5]) == id &&
          ((icmp[6] << 8) | icmp[7]) == seq) {
        got = true;
      }
    }
    if (got) ++replies;
  }
  close(fd);
  return replies;
}

}  // namespace

absl::StatusOr<int> Ping(const NetNs& ns, std::string_view ip, int count, int timeout_ms) {
  absl::StatusOr<IpAddress> dst = IpAddress::Parse(ip, "ping target");
  if (!dst.ok()) return dst.status();
  return RunInNetNs(ns, [&] { return PingHere(*dst, count, timeout_ms); });
}

}  // namespace nsmcert::kernel::testing
