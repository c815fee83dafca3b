// The topology model: what a YAML file in fixtures/topologies/ declares, parsed and validated.
// No system calls; building the namespaces is topology.h's job.
//
// File format (see fixtures/topologies/two-node.yaml):
//
//   name: two-node                 # optional; defaults to the file name without extension
//   fabric:
//     underlay: 10.100.0.0/24      # the nodes' shared subnet (IPv4 or IPv6), host bits zero
//     mtu: 1500                    # optional, 1280..65535 (IPv6 needs 1280), default 1500
//   nodes:                         # at least one
//     - name: node-a               # see the name rules below
//       address: 10.100.0.1        # underlay address, inside the subnet
//       workloads:                 # optional
//         - name: nsc-a
//           role: nsc              # optional: nsc or nse
//
// Names: lowercase letters, digits and '-', starting with a letter and not ending with '-'; unique
// across nodes and workloads; "fabric" is reserved. Every kernel interface name the builder derives
// from a node name must fit the 15-byte limit (see FabricLinkName), which caps node names at
// kMaxNodeNameLength bytes. Unknown or duplicate keys are errors, so typos do not pass silently.
//
// Errors are INVALID_ARGUMENT (NOT_FOUND for a missing file) and start with
// "<file>:<line>:<column>:" followed by the path of the offending field ("nodes[1].address").
#ifndef NSMCERT_CONFORMANCE_HARNESS_TOPOLOGY_SPEC_H_
#define NSMCERT_CONFORMANCE_HARNESS_TOPOLOGY_SPEC_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reference/kernel/ip.h"

namespace nsmcert::harness {

// Interface names the builder creates. They live inside the run's own namespaces, so they need no
// run id to be unique, and stay short.
inline constexpr std::string_view kFabricBridgeName = "br0";       // in the fabric namespace
inline constexpr std::string_view kNodeUnderlayInterface = "ul0";  // in every node namespace
inline constexpr std::string_view kFabricLinkPrefix = "ul-";       // fabric end: "ul-<node>"
// Linux IFNAMSIZ - 1.
inline constexpr std::size_t kMaxInterfaceNameLength = 15;
inline constexpr std::size_t kMaxNodeNameLength =
    kMaxInterfaceNameLength - kFabricLinkPrefix.size();
// Workload names only name namespaces (no kernel limit below 255); the cap keeps namespace names,
// log lines and evidence file names readable.
inline constexpr std::size_t kMaxWorkloadNameLength = 32;
// The reserved element name of the fabric namespace.
inline constexpr std::string_view kFabricElementName = "fabric";

// The fabric-side veth end of `node` on the bridge.
std::string FabricLinkName(std::string_view node);

// Where a value came from, for error messages. line and column are 1-based; 0 when unknown (a spec
// built in code).
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  // "<file>:<line>:<column>", or "<file>" without a line, or "" when nothing is known.
  std::string ToString() const;
};

enum class WorkloadRole { kUnspecified, kNsc, kNse };
std::string_view WorkloadRoleName(WorkloadRole role);  // "", "nsc", "nse"

struct WorkloadSpec {
  std::string name;
  WorkloadRole role = WorkloadRole::kUnspecified;
  SourceLocation location;
  SourceLocation name_location;
};

struct NodeSpec {
  std::string name;
  kernel::IpAddress address;  // underlay address; the prefix length is the fabric subnet's
  std::vector<WorkloadSpec> workloads;
  SourceLocation location;
  SourceLocation name_location;
  SourceLocation address_location;
};

struct FabricSpec {
  kernel::IpPrefix underlay;
  int mtu = 1500;
  SourceLocation location;
  SourceLocation underlay_location;
  SourceLocation mtu_location;
};

struct TopologySpec {
  std::string name;
  std::string source;  // file name (or what the caller passed as the source name)
  FabricSpec fabric;
  std::vector<NodeSpec> nodes;
  SourceLocation location;

  const NodeSpec* FindNode(std::string_view name) const;
  // The workload called `name` and, through `node`, the node it sits on.
  const WorkloadSpec* FindWorkload(std::string_view name, const NodeSpec** node = nullptr) const;
};

// Parses and validates YAML text. `source_name` is used in error messages and as the default
// topology name (its file name without directories and extension).
absl::StatusOr<TopologySpec> ParseTopology(std::string_view yaml_text,
                                           std::string_view source_name);
// Reads and parses a file. NOT_FOUND names the path when it cannot be read.
absl::StatusOr<TopologySpec> LoadTopologyFile(const std::string& path);
// The checks ParseTopology applies, for specs built in code.
absl::Status ValidateTopology(const TopologySpec& spec);

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_TOPOLOGY_SPEC_H_
