// Building a topology (topology_spec.h) out of network namespaces, and always tearing it down.
//
// For a run with id R the builder creates:
//   nsmc-R-fabric       lo up; bridge br0 (up, fabric MTU) joining the nodes' underlay links
//   nsmc-R-<node>       lo up; veth ul0 with the node's underlay address/<subnet length>, up; its
//                       peer ul-<node> sits in the fabric namespace, enslaved to br0, up
//   nsmc-R-<workload>   lo up, nothing else: the forwarder plumbs workloads
// Nothing is created in the caller's own namespace. Kernel work goes through reference/kernel
// (named namespaces, rtnetlink).
//
// Lifetime: a Topology owns its namespaces. Teardown() (also run by the destructor) first SIGKILLs
// every process still inside one of them (a process would keep its namespace alive), then deletes
// the names, then removes the run marker. Teardown happens also when:
//   - Build fails halfway: what was created is removed before the error is returned;
//   - the process gets SIGINT/SIGTERM/SIGHUP: the emergency handler (emergency_cleanup.h) removes
//     the namespaces before the signal takes its course (TopologyOptions::handle_signals);
//   - the process crashes or is SIGKILLed: the run marker names a dead owner, and the next
//     SweepLeftovers() (sweep.h) removes the namespaces.
//
// Threading: Build and Teardown from one thread at a time; the accessors are safe from any thread
// while no Teardown runs. Needs CAP_SYS_ADMIN and CAP_NET_ADMIN (root).
#ifndef NSMCERT_CONFORMANCE_HARNESS_TOPOLOGY_H_
#define NSMCERT_CONFORMANCE_HARNESS_TOPOLOGY_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conformance/harness/emergency_cleanup.h"
#include "conformance/harness/run_id.h"
#include "conformance/harness/run_marker.h"
#include "conformance/harness/topology_spec.h"
#include "reference/kernel/ip.h"
#include "reference/kernel/netns.h"

namespace nsmcert::harness {

struct TopologyOptions {
  // The run id; a fresh one by default. Fixing it lets a caller know the names before building
  // (e.g. to scope a leak audit); a collision with a live run is ALREADY_EXISTS.
  std::optional<RunId> run_id{};
  // Where the run marker goes (run_marker.h). Sweeps must look in the same place.
  std::string marker_dir = kDefaultRunMarkerDir;
  // Install the SIGINT/SIGTERM/SIGHUP cleanup handler (emergency_cleanup.h). Turn off in hosts
  // that manage signals themselves; the sweep still removes leftovers.
  bool handle_signals = true;
};

// One namespace of the topology.
struct TopologyNamespace {
  std::string element;  // "fabric", a node or a workload name
  std::string name;     // "nsmc-<run id>-<element>"
  std::string path;     // "/run/netns/<name>": usable with setns() and NetNs::FromPath
  std::uint64_t inode = 0;
};

struct BuiltNode {
  std::string name;
  TopologyNamespace netns;
  kernel::IpPrefix underlay;  // the node's address with the subnet's length, e.g. 10.100.0.1/24
  std::string underlay_interface;  // in the node namespace ("ul0")
  std::string fabric_link;         // the peer in the fabric namespace ("ul-<node>")
};

struct BuiltWorkload {
  std::string name;
  std::string node;  // the node it belongs to
  WorkloadRole role = WorkloadRole::kUnspecified;
  TopologyNamespace netns;
};

class Topology {
 public:
  // Creates the namespaces and links of `spec` (which must be valid; ValidateTopology runs again).
  // On failure, everything created so far is removed and the error names the step and element.
  static absl::StatusOr<std::unique_ptr<Topology>> Build(const TopologySpec& spec,
                                                         TopologyOptions options = {});

  ~Topology();  // Teardown(), errors ignored (they are also written to stderr)
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  // Removes everything (see the file comment). Idempotent; returns every failure joined.
  absl::Status Teardown();

  const RunId& run_id() const { return run_id_; }
  const TopologySpec& spec() const { return spec_; }
  const TopologyNamespace& fabric() const { return fabric_; }
  const std::vector<BuiltNode>& nodes() const { return nodes_; }
  const std::vector<BuiltWorkload>& workloads() const { return workloads_; }
  // nullptr when there is no such node / workload.
  const BuiltNode* FindNode(std::string_view name) const;
  const BuiltWorkload* FindWorkload(std::string_view name) const;
  // The namespace of an element ("fabric", node or workload), or nullptr.
  const TopologyNamespace* FindNamespace(std::string_view element) const;
  // All namespaces, fabric first, then nodes, then workloads.
  std::vector<const TopologyNamespace*> namespaces() const;
  // Opens a handle on an element's namespace. NOT_FOUND for an unknown element.
  absl::StatusOr<kernel::NetNs> OpenNetNs(std::string_view element) const;

 private:
  Topology(TopologySpec spec, RunId run_id) : spec_(std::move(spec)), run_id_(std::move(run_id)) {}

  // Registers and creates the namespace of `element`; returns an open handle for building.
  absl::StatusOr<kernel::NetNs> CreateNamespace(std::string_view element, TopologyNamespace& out);
  absl::Status BuildFabric(const kernel::NetNs& fabric_ns);
  absl::Status BuildNode(const NodeSpec& node, const kernel::NetNs& fabric_ns);
  absl::Status BuildWorkload(const NodeSpec& node, const WorkloadSpec& workload);

  TopologySpec spec_;
  RunId run_id_;
  std::optional<RunMarker> marker_;
  EmergencyRegistration marker_registration_;
  TopologyNamespace fabric_;
  std::vector<BuiltNode> nodes_;
  std::vector<BuiltWorkload> workloads_;
  // Names created so far, in creation order, with their emergency registrations.
  struct Created {
    std::string name;
    std::uint64_t inode = 0;
    EmergencyRegistration registration;
  };
  std::vector<Created> created_;
};

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_TOPOLOGY_H_
