#include "conformance/harness/topology.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "conformance/harness/proc.h"
#include "conformance/harness/str_util.h"
#include "reference/kernel/netlink.h"

namespace nsmcert::harness {
namespace {

constexpr int kRunIdAttempts = 5;
// How long Teardown waits for killed processes to be gone before deleting their namespace.
constexpr absl::Duration kKillWait = absl::Seconds(5);

absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  return absl::Status(status.code(), internal::Cat(context, ": ", status.message()));
}

std::string NamedNetNsPath(std::string_view name) {
  return internal::Cat(kernel::kNamedNetNsDir, "/", name);
}

// SIGKILLs every process inside the namespace with `inode` and waits (bounded) until each has
// exited, so the namespace can go away with its last reference.
void KillProcessesIn(std::uint64_t inode) {
  std::vector<pid_t> pids = PidsInNetNs(inode);
  std::erase(pids, getpid());
  for (pid_t pid : pids) kill(pid, SIGKILL);
  const absl::Time deadline = absl::Now() + kKillWait;
  for (pid_t pid : pids) {
    while (absl::Now() < deadline) {
      auto stat = ReadProcStat(pid);
      if (!stat.ok() || stat->state == 'Z' || stat->state == 'X') break;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

// Writes `value` to the IPv6 sysctl `key` of `link` in `ns` (/proc/sys/net is per namespace, and
// resolved for the thread that opens it).
absl::Status SetIpv6Sysctl(const kernel::NetNs& ns, std::string_view link, std::string_view key,
                           std::string_view value) {
  return kernel::RunInNetNs(ns, [&]() -> absl::Status {
    const std::string path = internal::Cat("/proc/sys/net/ipv6/conf/", link, "/", key);
    std::ofstream file(path);
    if (!(file << value << "\n") || !file.flush()) {
      return absl::InternalError(internal::Cat("cannot write ", path));
    }
    return absl::OkStatus();
  });
}

}  // namespace

absl::StatusOr<std::unique_ptr<Topology>> Topology::Build(const TopologySpec& spec,
                                                          TopologyOptions options) {
  if (absl::Status valid = ValidateTopology(spec); !valid.ok()) return valid;
  if (options.handle_signals) InstallEmergencySignalHandlers();

  // The marker comes first: no namespace of this run ever exists without a live owner on record.
  absl::StatusOr<RunMarker> marker = absl::UnknownError("no attempt");
  std::optional<RunId> run_id;
  for (int attempt = 0; attempt < kRunIdAttempts; ++attempt) {
    run_id = options.run_id ? *options.run_id : RunId::Generate();
    marker = RunMarker::Create(*run_id, options.marker_dir);
    if (marker.ok() || options.run_id ||
        marker.status().code() != absl::StatusCode::kAlreadyExists) {
      break;
    }
  }
  if (!marker.ok()) {
    return Annotate(marker.status(), internal::Cat("build topology ", spec.name));
  }

  std::unique_ptr<Topology> topology(new Topology(spec, *run_id));
  topology->marker_registration_ = EmergencyRegistration::File(marker->path());
  topology->marker_ = *std::move(marker);

  const std::string context =
      internal::Cat("build topology ", spec.name, " (run ", run_id->str(), ")");
  auto fabric_ns = topology->CreateNamespace(kFabricElementName, topology->fabric_);
  absl::Status status = fabric_ns.status();
  if (status.ok()) status = topology->BuildFabric(*fabric_ns);
  for (const NodeSpec& node : spec.nodes) {
    if (!status.ok()) break;
    status = topology->BuildNode(node, *fabric_ns);
  }
  for (const NodeSpec& node : spec.nodes) {
    for (const WorkloadSpec& workload : node.workloads) {
      if (!status.ok()) break;
      status = topology->BuildWorkload(node, workload);
    }
  }
  if (!status.ok()) {
    absl::Status teardown = topology->Teardown();
    std::string message = internal::Cat(context, ": ", status.message());
    if (!teardown.ok()) internal::Append(&message, " (and cleaning up: ", teardown.message(), ")");
    return absl::Status(status.code(), message);
  }
  return topology;
}

absl::StatusOr<kernel::NetNs> Topology::CreateNamespace(std::string_view element,
                                                        TopologyNamespace& out) {
  const std::string name = run_id_.NamespaceName(element);
  // Registered before it exists, so an interrupt right after creation still removes it.
  Created created{name, 0, EmergencyRegistration::NamedNetNs(name)};
  absl::StatusOr<kernel::NetNs> ns = kernel::CreateNamedNetNs(name);
  if (!ns.ok()) return Annotate(ns.status(), internal::Cat(element));
  created.inode = ns->ino();
  created_.push_back(std::move(created));
  out = TopologyNamespace{std::string(element), name, NamedNetNsPath(name), ns->ino()};

  auto netlink = kernel::Netlink::Open(*ns);
  if (!netlink.ok()) return Annotate(netlink.status(), internal::Cat(element, ": open netlink"));
  if (absl::Status up = (*netlink)->SetUp("lo", true); !up.ok()) {
    return Annotate(up, internal::Cat(element, ": set lo up"));
  }
  return ns;
}

absl::Status Topology::BuildFabric(const kernel::NetNs& fabric_ns) {
  auto netlink = kernel::Netlink::Open(fabric_ns);
  if (!netlink.ok()) return Annotate(netlink.status(), "fabric: open netlink");
  kernel::Netlink& nl = **netlink;
  if (absl::Status s = nl.CreateBridge(kFabricBridgeName); !s.ok()) {
    return Annotate(s, "fabric: create bridge");
  }
  if (absl::Status s = nl.SetMtu(kFabricBridgeName, spec_.fabric.mtu); !s.ok()) {
    return Annotate(s, "fabric: set bridge MTU");
  }
  // The fabric is pure L2: without IPv6 on its own links it sends no router solicitations or MLD
  // reports, so underlay captures hold only the nodes' traffic.
  if (absl::Status s = SetIpv6Sysctl(fabric_ns, kFabricBridgeName, "disable_ipv6", "1"); !s.ok()) {
    return Annotate(s, "fabric: disable IPv6 on the bridge");
  }
  return Annotate(nl.SetUp(kFabricBridgeName, true), "fabric: set bridge up");
}

absl::Status Topology::BuildNode(const NodeSpec& node, const kernel::NetNs& fabric_ns) {
  BuiltNode built;
  built.name = node.name;
  built.underlay = kernel::IpPrefix{node.address, spec_.fabric.underlay.length};
  built.underlay_interface = std::string(kNodeUnderlayInterface);
  built.fabric_link = FabricLinkName(node.name);
  auto node_ns = CreateNamespace(node.name, built.netns);
  if (!node_ns.ok()) return node_ns.status();
  const std::string context = internal::Cat("node ", node.name);

  auto fabric_netlink = kernel::Netlink::Open(fabric_ns);
  if (!fabric_netlink.ok()) return Annotate(fabric_netlink.status(), context);
  kernel::Netlink& fabric = **fabric_netlink;
  // The node end is created directly inside the node namespace: nothing ever appears in the
  // caller's namespace, and there is no rename race.
  if (absl::Status s = fabric.CreateVeth(built.fabric_link, built.underlay_interface, &*node_ns,
                                         spec_.fabric.mtu);
      !s.ok()) {
    return Annotate(s, internal::Cat(context, ": create veth ", built.fabric_link, "/",
                                     built.underlay_interface));
  }
  if (absl::Status s = SetIpv6Sysctl(fabric_ns, built.fabric_link, "disable_ipv6", "1"); !s.ok()) {
    return Annotate(s, internal::Cat(context, ": disable IPv6 on ", built.fabric_link));
  }
  if (absl::Status s = fabric.SetMaster(built.fabric_link, kFabricBridgeName); !s.ok()) {
    return Annotate(s, internal::Cat(context, ": attach ", built.fabric_link, " to the bridge"));
  }
  if (absl::Status s = fabric.SetUp(built.fabric_link, true); !s.ok()) {
    return Annotate(s, internal::Cat(context, ": set ", built.fabric_link, " up"));
  }

  // Set before the link comes up, so no autoconfiguration ever starts on it. An IPv4 underlay gets
  // no IPv6 at all (a quiet, settled link: no link-local routes appearing later, no ND/MLD in
  // captures). An IPv6 underlay skips duplicate address detection, which would hold the address
  // "tentative" for a second or two; the fabric is private, so there is nothing to detect.
  const bool ipv6 = node.address.family == kernel::IpFamily::kV6;
  if (absl::Status s = SetIpv6Sysctl(*node_ns, built.underlay_interface,
                                     ipv6 ? "accept_dad" : "disable_ipv6", ipv6 ? "0" : "1");
      !s.ok()) {
    return Annotate(s, internal::Cat(context, ": configure IPv6 on ", built.underlay_interface));
  }
  auto node_netlink = kernel::Netlink::Open(*node_ns);
  if (!node_netlink.ok()) return Annotate(node_netlink.status(), context);
  if (absl::Status s =
          (*node_netlink)->AddAddress(built.underlay_interface, built.underlay.ToString());
      !s.ok()) {
    return Annotate(s,
                    internal::Cat(context, ": add underlay address ", built.underlay.ToString()));
  }
  if (absl::Status s = (*node_netlink)->SetUp(built.underlay_interface, true); !s.ok()) {
    return Annotate(s, internal::Cat(context, ": set ", built.underlay_interface, " up"));
  }
  nodes_.push_back(std::move(built));
  return absl::OkStatus();
}

absl::Status Topology::BuildWorkload(const NodeSpec& node, const WorkloadSpec& workload) {
  BuiltWorkload built;
  built.name = workload.name;
  built.node = node.name;
  built.role = workload.role;
  auto ns = CreateNamespace(workload.name, built.netns);
  if (!ns.ok()) return Annotate(ns.status(), "workload");
  workloads_.push_back(std::move(built));
  return absl::OkStatus();
}

Topology::~Topology() {
  absl::Status status = Teardown();
  if (!status.ok()) std::cerr << "nsmcert: topology teardown: " << status << "\n";
}

absl::Status Topology::Teardown() {
  std::vector<std::string> errors;
  // Reverse creation order: workloads, nodes, fabric.
  for (auto it = created_.rbegin(); it != created_.rend(); ++it) {
    KillProcessesIn(it->inode);
    absl::Status deleted = kernel::DeleteNamedNetNs(it->name);
    // NOT_FOUND: already gone (an emergency cleanup, or someone else removed it).
    if (!deleted.ok() && deleted.code() != absl::StatusCode::kNotFound) {
      errors.push_back(std::string(deleted.message()));
    }
    it->registration.Reset();
  }
  created_.clear();
  if (marker_) {
    if (absl::Status removed = marker_->Remove(); !removed.ok()) {
      errors.push_back(std::string(removed.message()));
    }
    marker_.reset();
  }
  marker_registration_.Reset();
  if (errors.empty()) return absl::OkStatus();
  return absl::InternalError(
      internal::Cat("teardown of run ", run_id_.str(), ": ", internal::Join(errors, "; ")));
}

const BuiltNode* Topology::FindNode(std::string_view name) const {
  for (const BuiltNode& node : nodes_) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

const BuiltWorkload* Topology::FindWorkload(std::string_view name) const {
  for (const BuiltWorkload& workload : workloads_) {
    if (workload.name == name) return &workload;
  }
  return nullptr;
}

const TopologyNamespace* Topology::FindNamespace(std::string_view element) const {
  if (element == kFabricElementName) return &fabric_;
  if (const BuiltNode* node = FindNode(element)) return &node->netns;
  if (const BuiltWorkload* workload = FindWorkload(element)) return &workload->netns;
  return nullptr;
}

std::vector<const TopologyNamespace*> Topology::namespaces() const {
  std::vector<const TopologyNamespace*> result = {&fabric_};
  for (const BuiltNode& node : nodes_) result.push_back(&node.netns);
  for (const BuiltWorkload& workload : workloads_) result.push_back(&workload.netns);
  return result;
}

absl::StatusOr<kernel::NetNs> Topology::OpenNetNs(std::string_view element) const {
  const TopologyNamespace* ns = FindNamespace(element);
  if (ns == nullptr) {
    return absl::NotFoundError(
        internal::Cat("topology ", spec_.name, " has no element \"", element, "\""));
  }
  return kernel::NetNs::FromPath(ns->path);
}

}  // namespace nsmcert::harness
