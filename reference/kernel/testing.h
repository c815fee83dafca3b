// Helpers for tests that touch the kernel: unique names, throw-away namespaces, and snapshots of
// what a namespace holds so a test can check that an operation left nothing behind.
#ifndef NSMCERT_REFERENCE_KERNEL_TESTING_H_
#define NSMCERT_REFERENCE_KERNEL_TESTING_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"

namespace nsmcert::kernel::testing {

// "<prefix>-<pid>-<6 random hex>", unique across concurrent test processes. Meant for namespace
// names (no length limit that matters); interface names live inside those namespaces and need not
// be unique.
std::string UniqueNetNsName(std::string_view prefix);

// A named namespace for one test, with `lo` up, deleted when it goes out of scope.
class TestNetNs {
 public:
  static absl::StatusOr<TestNetNs> Create(std::string_view prefix);
  const std::string& name() const { return scoped_.name(); }
  const NetNs& ns() const { return scoped_.ns(); }
  Netlink& nl() { return *netlink_; }

 private:
  TestNetNs(ScopedNamedNetNs scoped, std::unique_ptr<Netlink> netlink)
      : scoped_(std::move(scoped)), netlink_(std::move(netlink)) {}
  ScopedNamedNetNs scoped_;
  std::unique_ptr<Netlink> netlink_;
};

// What a namespace holds, in a form that compares equal when nothing changed: links (without
// indexes, which never repeat), addresses, routes of every table, rules, permanent neighbours and
// tc ingress redirects.
struct NetNsSnapshot {
  std::vector<std::string> lines;  // one sorted, human-readable line per object
  friend bool operator==(const NetNsSnapshot&, const NetNsSnapshot&) = default;
};
absl::StatusOr<NetNsSnapshot> TakeSnapshot(Netlink& nl);
// Lines in `after` and not in `before` ("+ ...") and the reverse ("- ..."), for test messages.
std::string DiffSnapshots(const NetNsSnapshot& before, const NetNsSnapshot& after);

// Sends `count` ICMP echo requests to `ip` from inside `ns` (a raw ICMP socket opened on a thread
// in that namespace) and returns how many replies came back within `timeout_ms` per request.
absl::StatusOr<int> Ping(const NetNs& ns, std::string_view ip, int count = 3,
                         int timeout_ms = 1000);

}  // namespace nsmcert::kernel::testing

#endif  // NSMCERT_REFERENCE_KERNEL_TESTING_H_
