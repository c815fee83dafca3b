// The leak audit: a snapshot of what a run could leave behind, taken before and after, and a diff
// that lists exactly what appeared.
//
// A snapshot holds:
//   - named network namespaces (under /run/netns) within the scope;
//   - the links and routes of each of those namespaces (and of the caller's own, if asked), read
//     through reference/kernel's netlink;
//   - the descendants of this process (children, grandchildren...), from /proc;
//   - the sockets this process holds open (/proc/self/fd entries "socket:[inode]").
// Processes are identified by (pid, start time) and sockets by inode, so a reused pid or fd number
// is not mistaken for an old one.
//
// Scope: a machine runs other things in parallel (other test binaries, other harness runs), so
// namespaces are filtered by name prefix; give a run's own prefix (RunId::NamespacePrefix) to judge
// one run. The caller's own namespace is off by default for the same reason.
#ifndef NSMCERT_CONFORMANCE_HARNESS_LEAK_AUDIT_H_
#define NSMCERT_CONFORMANCE_HARNESS_LEAK_AUDIT_H_

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "conformance/harness/run_id.h"

namespace nsmcert::harness {

struct AuditScope {
  // Named namespaces whose name starts with this are recorded, with their links and routes.
  std::string namespace_prefix = std::string(kHarnessNamePrefix);
  // Also record the links and routes of the caller's own namespace (under the key "").
  bool include_current_namespace = false;
};

struct LeakSnapshot {
  std::set<std::string> namespaces;
  // namespace name ("" = the caller's) -> "ul0 (veth)", "br0 (bridge)", ...
  std::map<std::string, std::set<std::string>> links;
  // namespace name -> "10.100.0.0/24 dev ul0 table 254", ...
  std::map<std::string, std::set<std::string>> routes;
  // (pid, start time) -> "pid 123 health_server: <command line>"
  std::map<std::pair<pid_t, std::uint64_t>, std::string> processes;
  // socket inode -> "fd 7: unix stream /tmp/x.sock"
  std::map<std::uint64_t, std::string> sockets;
};

// What appeared between two snapshots, one readable line per item.
struct LeakReport {
  std::vector<std::string> namespaces{};
  std::vector<std::string> links{};   // "<namespace>: <link>"
  std::vector<std::string> routes{};  // "<namespace>: <route>"
  std::vector<std::string> processes{};
  std::vector<std::string> sockets{};

  bool clean() const;
  // "clean", or a block listing each kind that leaked.
  std::string ToString() const;
};

// Errors only when the netlink socket of a namespace in scope cannot be opened for a reason other
// than the namespace vanishing while being read (which is skipped).
absl::StatusOr<LeakSnapshot> TakeLeakSnapshot(const AuditScope& scope = {});

LeakReport DiffSnapshots(const LeakSnapshot& before, const LeakSnapshot& after);

// A snapshot taken now, to compare against later:
//   auto audit = LeakAudit::Begin({.namespace_prefix = run_id.NamespacePrefix()});
//   ... run ...
//   auto report = audit->Check();  // report->clean(), report->ToString()
class LeakAudit {
 public:
  static absl::StatusOr<LeakAudit> Begin(const AuditScope& scope = {});
  // What appeared since Begin.
  absl::StatusOr<LeakReport> Check() const;

 private:
  LeakAudit(AuditScope scope, LeakSnapshot before)
      : scope_(std::move(scope)), before_(std::move(before)) {}
  AuditScope scope_;
  LeakSnapshot before_;
};

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_LEAK_AUDIT_H_
