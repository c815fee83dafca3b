// Paths under test: a pair of endpoints (client and server namespaces with addresses) joined by
// some data path, set up before measuring and torn down after.
//
// Built-in paths, made with reference/kernel (netns.h, netlink.h) only:
//   plain-veth      client ns <-veth-> server ns                          (baseline)
//   veth-xconnect   client ns <-veth-> forwarder ns <-veth-> server ns, the forwarder's two
//                   veth ends cross-connected with tc ingress mirred redirects both ways (the
//                   reference forwarder's local KERNEL data path)
//   plain-vxlan     node A ns <-underlay veth-> node B ns, a VXLAN device in each node and the
//                   workload addresses on the VXLAN devices                  (baseline)
//   vxlan-xconnect  workload A ns <-veth-> node A ns (veth end cross-connected with the node's
//                   VXLAN device) <-underlay-> node B ns (the same) <-veth-> workload B ns (the
//                   reference forwarder's remote VXLAN data path)
// Paths set up by another program (e.g. the reference forwarder driven through NSM) plug in as
// an "external" path naming existing namespaces, or as one more PathKind.
//
// Namespaces the built-in paths create are named "nsmb-<path>-<role>-<pid>-<random>" and are
// deleted by Teardown or the destructor, also after a failed Setup. SweepStaleNetNs removes
// those left by a process that died.
#ifndef NSMCERT_BENCH_DATAPATH_PATH_H_
#define NSMCERT_BENCH_DATAPATH_PATH_H_

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "bench/datapath/endpoint.h"

namespace nsmcert::bench {

class PathUnderTest {
 public:
  virtual ~PathUnderTest() = default;
  // Builds the path. On failure, what was built is removed again and the error names the step.
  // FAILED_PRECONDITION when already set up.
  virtual absl::Status Setup() = 0;
  // The two workload ends; valid from a successful Setup until Teardown.
  virtual const Endpoint& client() const = 0;
  virtual const Endpoint& server() const = 0;
  // Removes everything Setup made. Idempotent; the destructor runs it too.
  virtual absl::Status Teardown() = 0;
};

struct PathKind {
  std::string name;
  // The raw-kernel path of the same shape this one is compared with; empty for a baseline.
  std::string baseline;
  std::string description;
  std::function<std::unique_ptr<PathUnderTest>()> make;
};

// The four built-in paths, baselines first.
std::vector<PathKind> BuiltinPaths();
// NOT_FOUND (listing the known names) when `name` is not a built-in path.
absl::StatusOr<PathKind> FindBuiltinPath(std::string_view name);

// A path that already exists, described as comma-separated key=value pairs:
//   name=<label>,client-ns=<named netns>,client-ip=<addr>,server-ns=<named netns>,
//   server-ip=<addr>[,baseline=<path name>]
// Setup opens the named namespaces; Teardown only closes them (the path is not ours).
// INVALID_ARGUMENT names a missing or unknown key or a bad address.
absl::StatusOr<PathKind> ParseExternalPath(std::string_view spec);

inline constexpr char kBenchNetNsPrefix[] = "nsmb-";
// Deletes named namespaces starting with kBenchNetNsPrefix whose creating process (the pid in the
// name) no longer runs. Returns the names it removed.
std::vector<std::string> SweepStaleNetNs();

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_PATH_H_
