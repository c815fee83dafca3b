#include "conformance/harness/leak_audit.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstring>
#include <string>
#include <string_view>

#include "conformance/harness/proc.h"
#include "conformance/harness/str_util.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"

namespace nsmcert::harness {
namespace {

std::string DescribeLink(const kernel::LinkInfo& link) {
  return link.kind.empty() ? link.name : internal::Cat(link.name, " (", link.kind, ")");
}

std::string DescribeRoute(const kernel::RouteInfo& route) {
  std::string text = route.prefix;
  if (!route.via.empty()) internal::Append(&text, " via ", route.via);
  if (!route.device.empty()) internal::Append(&text, " dev ", route.device);
  internal::Append(&text, " table ", route.table);
  return text;
}

// Records the links and routes of `ns` under `key`.
absl::Status RecordNamespace(const kernel::NetNs& ns, const std::string& key,
                             LeakSnapshot& snapshot) {
  auto netlink = kernel::Netlink::Open(ns);
  if (!netlink.ok()) return netlink.status();
  auto links = (*netlink)->ListLinks();
  if (!links.ok()) return links.status();
  auto routes = (*netlink)->ListRoutes(/*table=*/0);
  if (!routes.ok()) return routes.status();
  auto& link_set = snapshot.links[key];
  for (const kernel::LinkInfo& link : *links) link_set.insert(DescribeLink(link));
  auto& route_set = snapshot.routes[key];
  for (const kernel::RouteInfo& route : *routes) route_set.insert(DescribeRoute(route));
  return absl::OkStatus();
}

// "unix stream /path", "tcp 10.0.0.1:5000", "netlink" ... for a socket fd of this process.
std::string DescribeSocket(int fd) {
  int domain = 0;
  int type = 0;
  socklen_t length = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length);
  length = sizeof(int);
  getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &length);
  const std::string_view type_name = type == SOCK_STREAM  ? "stream"
                                     : type == SOCK_DGRAM ? "dgram"
                                     : type == SOCK_RAW   ? "raw"
                                                          : "other";
  sockaddr_storage address{};
  socklen_t address_length = sizeof(address);
  const bool named = getsockname(fd, reinterpret_cast<sockaddr*>(&address), &address_length) == 0;
  switch (domain) {
    case AF_UNIX: {
      const auto* un = reinterpret_cast<const sockaddr_un*>(&address);
      std::string path;
      if (named && address_length > offsetof(sockaddr_un, sun_path)) {
        const std::size_t size = address_length - offsetof(sockaddr_un, sun_path);
        path = un->sun_path[0] == '\0' ? internal::Cat("@", std::string(un->sun_path + 1, size - 1))
                                       : std::string(un->sun_path, strnlen(un->sun_path, size));
      }
      return internal::Cat("unix ", type_name, path.empty() ? "" : " ", path);
    }
    case AF_INET:
    case AF_INET6: {
      char host[INET6_ADDRSTRLEN] = {};
      int port = 0;
      if (domain == AF_INET) {
        const auto* in = reinterpret_cast<const sockaddr_in*>(&address);
        inet_ntop(AF_INET, &in->sin_addr, host, sizeof(host));
        port = ntohs(in->sin_port);
      } else {
        const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&address);
        inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof(host));
        port = ntohs(in6->sin6_port);
      }
      return internal::Cat(type == SOCK_STREAM  ? "tcp"
                           : type == SOCK_DGRAM ? "udp"
                                                : "ip",
                           " ", host, ":", port);
    }
    case AF_NETLINK:
      return "netlink";
    case AF_PACKET:
      return "packet";
    default:
      return internal::Cat("family ", domain, " ", type_name);
  }
}

void RecordSockets(LeakSnapshot& snapshot) {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return;
  const int own = dirfd(dir);
  while (const dirent* entry = readdir(dir)) {
    const std::string_view name = entry->d_name;
    int fd = -1;
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (error != std::errc() || end != name.data() + name.size() || fd == own) continue;
    char target[64] = {};
    const ssize_t size = readlinkat(own, entry->d_name, target, sizeof(target) - 1);
    if (size <= 0) continue;
    const std::string_view link(target, static_cast<std::size_t>(size));
    // "socket:[12345]"
    if (!link.starts_with("socket:[") || !link.ends_with("]")) continue;
    std::uint64_t inode = 0;
    const std::string_view digits = link.substr(8, link.size() - 9);
    std::from_chars(digits.data(), digits.data() + digits.size(), inode);
    snapshot.sockets[inode] = internal::Cat("fd ", fd, ": ", DescribeSocket(fd));
  }
  closedir(dir);
}

template <class Set>
void AppendNew(const Set& before, const Set& after, std::string_view prefix,
               std::vector<std::string>& out) {
  for (const auto& item : after) {
    if (!before.contains(item)) out.push_back(internal::Cat(prefix, item));
  }
}

}  // namespace

absl::StatusOr<LeakSnapshot> TakeLeakSnapshot(const AuditScope& scope) {
  LeakSnapshot snapshot;
  for (const std::string& name : kernel::ListNamedNetNs()) {
    if (!name.starts_with(scope.namespace_prefix)) continue;
    auto ns = kernel::NetNs::FromName(name);
    if (!ns.ok()) continue;  // removed while we were listing
    snapshot.namespaces.insert(name);
    if (absl::Status recorded = RecordNamespace(*ns, name, snapshot); !recorded.ok()) {
      return absl::Status(recorded.code(), internal::Cat("leak audit of namespace ", name, ": ",
                                                         recorded.message()));
    }
  }
  if (scope.include_current_namespace) {
    auto ns = kernel::NetNs::Current();
    if (!ns.ok()) return ns.status();
    if (absl::Status recorded = RecordNamespace(*ns, "", snapshot); !recorded.ok()) {
      return recorded;
    }
  }
  for (const ProcStat& process : ListDescendants(getpid())) {
    // Zombies are listed (and marked): a child nobody reaps is a leak too.
    snapshot.processes[{process.pid, process.start_time}] =
        internal::Cat("pid ", process.pid, " ", process.comm,
                      process.state == 'Z' ? " (zombie)" : "", ": ", ReadCmdline(process.pid));
  }
  RecordSockets(snapshot);
  return snapshot;
}

LeakReport DiffSnapshots(const LeakSnapshot& before, const LeakSnapshot& after) {
  LeakReport report;
  AppendNew(before.namespaces, after.namespaces, "", report.namespaces);
  static const std::set<std::string> kNone;
  for (const auto& [ns, links] : after.links) {
    auto it = before.links.find(ns);
    AppendNew(it == before.links.end() ? kNone : it->second, links,
              internal::Cat(ns.empty() ? "(own namespace)" : ns, ": "), report.links);
  }
  for (const auto& [ns, routes] : after.routes) {
    auto it = before.routes.find(ns);
    AppendNew(it == before.routes.end() ? kNone : it->second, routes,
              internal::Cat(ns.empty() ? "(own namespace)" : ns, ": "), report.routes);
  }
  for (const auto& [key, description] : after.processes) {
    if (!before.processes.contains(key)) report.processes.push_back(description);
  }
  for (const auto& [inode, description] : after.sockets) {
    if (!before.sockets.contains(inode)) report.sockets.push_back(description);
  }
  return report;
}

absl::StatusOr<LeakAudit> LeakAudit::Begin(const AuditScope& scope) {
  auto before = TakeLeakSnapshot(scope);
  if (!before.ok()) return before.status();
  return LeakAudit(scope, *std::move(before));
}

absl::StatusOr<LeakReport> LeakAudit::Check() const {
  auto after = TakeLeakSnapshot(scope_);
  if (!after.ok()) return after.status();
  return DiffSnapshots(before_, *after);
}

bool LeakReport::clean() const {
  return namespaces.empty() && links.empty() && routes.empty() && processes.empty() &&
         sockets.empty();
}

std::string LeakReport::ToString() const {
  if (clean()) return "clean";
  std::string out = "leaked:\n";
  auto section = [&](std::string_view title, const std::vector<std::string>& items) {
    if (items.empty()) return;
    internal::Append(&out, "  ", title, ":\n");
    for (const std::string& item : items) internal::Append(&out, "    ", item, "\n");
  };
  section("namespaces", namespaces);
  section("links", links);
  section("routes", routes);
  section("processes", processes);
  section("sockets", sockets);
  return out;
}

}  // namespace nsmcert::harness
