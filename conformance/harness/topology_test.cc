// Topologies for real (root): the two-node fixture built as namespaces, underlay connectivity,
// daemons in nodes killed and restarted, teardown, the leak audit, and runs that crash, are killed
// or interrupted midway.
#include "conformance/harness/topology.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "conformance/harness/leak_audit.h"
#include "conformance/harness/proc.h"
#include "conformance/harness/process.h"
#include "conformance/harness/sweep.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"

namespace nsmcert::harness {
namespace {

using ::testing::Contains;
using ::testing::ContainsRegex;
using ::testing::Each;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

constexpr char kTopologyDir[] = NSMCERT_TOPOLOGY_DIR;
constexpr char kHealthServer[] = NSMCERT_HEALTH_SERVER;
constexpr char kCrasher[] = NSMCERT_TOPOLOGY_CRASHER;

std::string FixturePath() { return std::string(kTopologyDir) + "/two-node.yaml"; }

// Names under /run/netns that start with `prefix`.
std::set<std::string> NamespacesWithPrefix(const std::string& prefix) {
  std::set<std::string> names;
  for (const std::string& name : kernel::ListNamedNetNs()) {
    if (name.starts_with(prefix)) names.insert(name);
  }
  return names;
}

class TopologyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
    auto spec = LoadTopologyFile(FixturePath());
    ASSERT_TRUE(spec.ok()) << spec.status();
    spec_ = *spec;
    char pattern[] = "/tmp/nsmcert-topology-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto supervisor = Supervisor::Create({.log_dir = dir_ + "/logs"});
    ASSERT_TRUE(supervisor.ok()) << supervisor.status();
    supervisor_ = *std::move(supervisor);
    // Known before building, so the audit can be scoped to this run (other runs may be going on).
    run_id_ = RunId::Generate();
    auto before = TakeLeakSnapshot({.namespace_prefix = run_id_->NamespacePrefix()});
    ASSERT_TRUE(before.ok()) << before.status();
    before_ = *before;
  }

  void TearDown() override {
    supervisor_.reset();
    topology_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void Build() {
    auto topology = Topology::Build(spec_, {.run_id = *run_id_});
    ASSERT_TRUE(topology.ok()) << topology.status();
    topology_ = *std::move(topology);
  }

  // Everything that appeared since SetUp in this run's scope, plus processes and sockets.
  LeakReport Leaks() {
    auto after = TakeLeakSnapshot({.namespace_prefix = run_id_->NamespacePrefix()});
    EXPECT_TRUE(after.ok()) << after.status();
    return after.ok() ? DiffSnapshots(before_, *after)
                      : LeakReport{.namespaces = {"(audit failed)"}};
  }

  Process* StartIn(const std::string& name, const std::string& element,
                   std::vector<std::string> argv) {
    const TopologyNamespace* ns = topology_->FindNamespace(element);
    EXPECT_NE(ns, nullptr) << element;
    if (ns == nullptr) return nullptr;
    auto process =
        supervisor_->Start({.name = name, .argv = std::move(argv), .netns_path = ns->path});
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *process : nullptr;
  }

  // Runs `argv` inside `element`'s namespace to completion.
  absl::StatusOr<ExitStatus> RunIn(const std::string& name, const std::string& element,
                                   std::vector<std::string> argv) {
    Process* process = StartIn(name, element, std::move(argv));
    if (process == nullptr) return absl::InternalError("not started");
    return process->Wait(absl::Seconds(30));
  }

  std::string SocketUrl(const std::string& name) const {
    return "unix://" + dir_ + "/" + name + ".sock";
  }

  TopologySpec spec_;
  std::string dir_;
  std::optional<RunId> run_id_;
  LeakSnapshot before_;
  std::unique_ptr<Supervisor> supervisor_;
  std::unique_ptr<Topology> topology_;
};

TEST_F(TopologyTest, BuildsTheTwoNodeFixture) {
  Build();
  const std::string prefix = run_id_->NamespacePrefix();
  EXPECT_THAT(NamespacesWithPrefix(prefix),
              UnorderedElementsAre(prefix + "fabric", prefix + "node-a", prefix + "node-b",
                                   prefix + "nsc-a", prefix + "nse-b"));
  EXPECT_TRUE(std::filesystem::exists(RunMarkerPath(kDefaultRunMarkerDir, *run_id_)));

  // Fabric: a bridge with both nodes' links on it, all up.
  {
    auto fabric_ns = topology_->OpenNetNs("fabric");
    ASSERT_TRUE(fabric_ns.ok()) << fabric_ns.status();
    auto fabric = kernel::Netlink::Open(*fabric_ns);
    ASSERT_TRUE(fabric.ok()) << fabric.status();
    auto bridge = (*fabric)->GetLink("br0");
    ASSERT_TRUE(bridge.ok()) << bridge.status();
    EXPECT_EQ(bridge->kind, "bridge");
    EXPECT_TRUE(bridge->up);
    EXPECT_EQ(bridge->mtu, 1500u);
    for (const char* link_name : {"ul-node-a", "ul-node-b"}) {
      auto link = (*fabric)->GetLink(link_name);
      ASSERT_TRUE(link.ok()) << link.status();
      EXPECT_EQ(link->kind, "veth");
      EXPECT_EQ(link->master_index, bridge->index);
      EXPECT_TRUE(link->up);
    }
  }

  // Nodes: lo up, ul0 with the underlay address.
  for (const BuiltNode& node : topology_->nodes()) {
    auto ns = topology_->OpenNetNs(node.name);
    ASSERT_TRUE(ns.ok());
    EXPECT_EQ(ns->ino(), node.netns.inode);
    auto netlink = kernel::Netlink::Open(*ns);
    ASSERT_TRUE(netlink.ok());
    EXPECT_TRUE((*netlink)->GetLink("lo")->up);
    auto ul0 = (*netlink)->GetLink("ul0");
    ASSERT_TRUE(ul0.ok()) << ul0.status();
    EXPECT_TRUE(ul0->up);
    EXPECT_EQ(ul0->mtu, 1500u);
    auto addresses = (*netlink)->ListAddresses("ul0");
    ASSERT_TRUE(addresses.ok());
    std::set<std::string> cidrs;
    for (const auto& address : *addresses) cidrs.insert(address.cidr);
    EXPECT_TRUE(cidrs.contains(node.underlay.ToString())) << node.underlay.ToString();
  }
  EXPECT_EQ(topology_->FindNode("node-a")->underlay.ToString(), "10.100.0.1/24");
  // An IPv4 underlay carries no IPv6 (no link-local chatter in captures).
  {
    auto node_a = kernel::Netlink::Open(*topology_->OpenNetNs("node-a"));
    ASSERT_TRUE(node_a.ok());
    auto addresses = (*node_a)->ListAddresses("ul0");
    ASSERT_TRUE(addresses.ok());
    ASSERT_EQ(addresses->size(), 1u);
    EXPECT_EQ((*addresses)[0].cidr, "10.100.0.1/24");
  }
  EXPECT_EQ(topology_->FindNode("node-b")->netns.name, run_id_->NamespaceName("node-b"));

  // Workloads: only lo, up.
  for (const BuiltWorkload& workload : topology_->workloads()) {
    auto ns = topology_->OpenNetNs(workload.name);
    ASSERT_TRUE(ns.ok());
    auto links = (*kernel::Netlink::Open(*ns))->ListLinks();
    ASSERT_TRUE(links.ok());
    ASSERT_EQ(links->size(), 1u) << workload.name;
    EXPECT_EQ((*links)[0].name, "lo");
    EXPECT_TRUE((*links)[0].up);
  }
  EXPECT_EQ(topology_->FindWorkload("nsc-a")->node, "node-a");
  EXPECT_EQ(topology_->FindWorkload("nse-b")->role, WorkloadRole::kNse);
  EXPECT_EQ(topology_->OpenNetNs("nothing").status().code(), absl::StatusCode::kNotFound);

  // The underlay carries traffic both ways.
  auto a_to_b = RunIn("ping-a-b", "node-a", {"ping", "-c", "1", "-W", "5", "10.100.0.2"});
  ASSERT_TRUE(a_to_b.ok()) << a_to_b.status();
  EXPECT_TRUE(a_to_b->success()) << supervisor_->Find("ping-a-b")->ReadLog();
  auto b_to_a = RunIn("ping-b-a", "node-b", {"ping", "-c", "1", "-W", "5", "10.100.0.1"});
  ASSERT_TRUE(b_to_a.ok());
  EXPECT_TRUE(b_to_a->success()) << supervisor_->Find("ping-b-a")->ReadLog();
  // Workloads are not plumbed: nothing to reach.
  auto from_workload = RunIn("ping-nsc", "nsc-a", {"ping", "-c", "1", "-W", "1", "10.100.0.2"});
  ASSERT_TRUE(from_workload.ok());
  EXPECT_FALSE(from_workload->success());

  ASSERT_TRUE(topology_->Teardown().ok());
  EXPECT_TRUE(NamespacesWithPrefix(prefix).empty());
  EXPECT_FALSE(std::filesystem::exists(RunMarkerPath(kDefaultRunMarkerDir, *run_id_)));
  EXPECT_TRUE(topology_->Teardown().ok());  // idempotent
  supervisor_.reset();
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

TEST_F(TopologyTest, BuildsAnIpv6Underlay) {
  auto spec = ParseTopology(R"(name: v6
fabric: {underlay: 'fd00:100::/64', mtu: 9000}
nodes:
  - {name: left, address: 'fd00:100::1'}
  - {name: right, address: 'fd00:100::2'}
)",
                            "v6.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  spec_ = *spec;
  Build();
  EXPECT_EQ(topology_->FindNode("right")->underlay.ToString(), "fd00:100::2/64");
  // No duplicate address detection: the address is usable at once.
  auto ping = RunIn("ping6", "left", {"ping", "-6", "-c", "1", "-W", "5", "fd00:100::2"});
  ASSERT_TRUE(ping.ok()) << ping.status();
  EXPECT_TRUE(ping->success()) << supervisor_->Find("ping6")->ReadLog();
  auto left = kernel::Netlink::Open(*topology_->OpenNetNs("left"));
  ASSERT_TRUE(left.ok());
  EXPECT_EQ((*left)->GetLink("ul0")->mtu, 9000u);
  ASSERT_TRUE(topology_->Teardown().ok());
  supervisor_.reset();
  left->reset();
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

TEST_F(TopologyTest, DaemonsInEachNodeAreKilledAndRestarted) {
  Build();
  Process* a = StartIn("daemon-a", "node-a", {kHealthServer, "--listen=" + SocketUrl("a")});
  Process* b = StartIn("daemon-b", "node-b", {kHealthServer, "--listen=" + SocketUrl("b")});
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(a->WaitHealthy({SocketUrl("a")}, {}, absl::Seconds(20)).ok());
  ASSERT_TRUE(b->WaitHealthy({SocketUrl("b")}, {}, absl::Seconds(20)).ok());
  // Each runs inside its node's namespace.
  EXPECT_EQ(*NetNsInodeOfPid(a->pid()), topology_->FindNode("node-a")->netns.inode);
  EXPECT_EQ(*NetNsInodeOfPid(b->pid()), topology_->FindNode("node-b")->netns.inode);

  const pid_t first_b = b->pid();
  ASSERT_TRUE(b->Kill().ok());
  EXPECT_EQ(b->last_exit(), (ExitStatus{.signaled = true, .signal = SIGKILL}));
  EXPECT_FALSE(ReadProcStat(first_b).ok());  // reaped, not a zombie
  EXPECT_FALSE(CheckHealth({SocketUrl("b")}, "", absl::Seconds(2)).ok());
  EXPECT_EQ(*CheckHealth({SocketUrl("a")}, "", absl::Seconds(5)), ServingStatus::kServing);

  ASSERT_TRUE(b->Restart().ok());
  EXPECT_NE(b->pid(), first_b);
  ASSERT_TRUE(b->WaitHealthy({SocketUrl("b")}, {}, absl::Seconds(20)).ok());
  EXPECT_EQ(*NetNsInodeOfPid(b->pid()), topology_->FindNode("node-b")->netns.inode);

  supervisor_.reset();
  ASSERT_TRUE(topology_->Teardown().ok());
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

TEST_F(TopologyTest, TcpHealthIsProbedFromInsideTheNamespace) {
  Build();
  const BuiltNode* node_b = topology_->FindNode("node-b");
  const std::string port_file = dir_ + "/port";
  Process* daemon =
      StartIn("tcp-daemon", "node-b",
              {kHealthServer, "--listen=tcp://10.100.0.2:0", "--port-file=" + port_file});
  ASSERT_NE(daemon, nullptr);
  std::string port;
  for (int i = 0; i < 4000 && port.empty() && daemon->running(); ++i) {
    std::ifstream(port_file) >> port;
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(port.empty()) << daemon->ReadLog();
  const std::string url = "tcp://10.100.0.2:" + port;
  EXPECT_TRUE(daemon->WaitHealthy({url, node_b->netns.path}, {}, absl::Seconds(20)).ok());
  // From node-a, across the underlay bridge.
  EXPECT_TRUE(
      WaitHealthy({url, topology_->FindNode("node-a")->netns.path}, {}, absl::Seconds(20)).ok());
  // From the test's own namespace the address does not exist.
  EXPECT_FALSE(CheckHealth({url, ""}, "", absl::Milliseconds(300)).ok());
}

TEST_F(TopologyTest, TeardownKillsProcessesLeftInItsNamespaces) {
  Build();
  Process* stray = StartIn("stray", "nsc-a", {"sleep", "1000"});
  ASSERT_NE(stray, nullptr);
  ASSERT_TRUE(topology_->Teardown().ok());
  auto status = stray->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, (ExitStatus{.signaled = true, .signal = SIGKILL}));
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

TEST_F(TopologyTest, FailedBuildRemovesWhatItCreated) {
  // A namespace in the way of node-b makes the build fail halfway. The test holds the run's marker
  // in the shared marker directory, so that sweeps of tests running in parallel see a live run and
  // leave the blocker (and the build's own namespaces) alone; the build's marker goes elsewhere.
  auto held_marker = RunMarker::Create(*run_id_);
  ASSERT_TRUE(held_marker.ok()) << held_marker.status();
  auto blocker = kernel::ScopedNamedNetNs::Create(run_id_->NamespaceName("node-b"));
  ASSERT_TRUE(blocker.ok()) << blocker.status();
  const std::string build_markers = dir_ + "/markers";
  auto topology = Topology::Build(spec_, {.run_id = *run_id_, .marker_dir = build_markers});
  ASSERT_FALSE(topology.ok());
  EXPECT_EQ(topology.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(topology.status().message(), HasSubstr("node-b"));
  EXPECT_THAT(topology.status().message(), HasSubstr("run " + run_id_->str()));
  EXPECT_THAT(NamespacesWithPrefix(run_id_->NamespacePrefix()),
              UnorderedElementsAre(run_id_->NamespaceName("node-b")));
  EXPECT_FALSE(std::filesystem::exists(RunMarkerPath(build_markers, *run_id_)));
  ASSERT_TRUE(blocker->Delete().ok());
  ASSERT_TRUE(held_marker->Remove().ok());
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

TEST_F(TopologyTest, RejectsAnInvalidSpecBeforeTouchingTheSystem) {
  TopologySpec bad = spec_;
  bad.nodes[1].address = *kernel::IpAddress::Parse("10.200.0.2");
  auto topology = Topology::Build(bad, {.run_id = *run_id_});
  EXPECT_EQ(topology.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(topology.status().message(), HasSubstr("outside the underlay subnet"));
  EXPECT_TRUE(NamespacesWithPrefix(run_id_->NamespacePrefix()).empty());
}

TEST_F(TopologyTest, LeakAuditReportsLinksAndRoutesThatAppear) {
  Build();
  auto audit = LeakAudit::Begin({.namespace_prefix = run_id_->NamespacePrefix()});
  ASSERT_TRUE(audit.ok()) << audit.status();
  auto node_a = topology_->OpenNetNs("node-a");
  ASSERT_TRUE(node_a.ok());
  // The audit of "the caller's own namespace", taken from a thread inside node-a.
  auto own_before = kernel::RunInNetNs(*node_a, [] {
    return TakeLeakSnapshot({.namespace_prefix = "nsmc-none-", .include_current_namespace = true});
  });
  ASSERT_TRUE(own_before.ok()) << own_before.status();
  {
    auto netlink = kernel::Netlink::Open(*node_a);
    ASSERT_TRUE(netlink.ok());
    kernel::Netlink& nl = **netlink;
    ASSERT_TRUE(nl.CreateVeth("leak0", "leak1").ok());
    ASSERT_TRUE(nl.SetUp("leak0", true).ok());
    ASSERT_TRUE(nl.SetUp("leak1", true).ok());
    kernel::RouteSpec route;
    route.prefix = "10.200.0.0/24";
    route.device = "leak0";
    ASSERT_TRUE(nl.AddRoute(route).ok());
  }
  auto report = audit->Check();
  ASSERT_TRUE(report.ok()) << report.status();
  const std::string ns = run_id_->NamespaceName("node-a");
  EXPECT_THAT(report->links, UnorderedElementsAre(ns + ": leak0 (veth)", ns + ": leak1 (veth)"));
  // Ours, and possibly the kernel's own IPv6 link-local and multicast routes of the new links; the
  // topology's links have settled (no IPv6 on an IPv4 underlay), so nothing else.
  EXPECT_THAT(report->routes, Contains(ns + ": 10.200.0.0/24 dev leak0 table 254"));
  EXPECT_THAT(report->routes, Each(ContainsRegex("dev leak[01] ")));
  EXPECT_TRUE(report->namespaces.empty());

  auto own_after = kernel::RunInNetNs(*node_a, [] {
    return TakeLeakSnapshot({.namespace_prefix = "nsmc-none-", .include_current_namespace = true});
  });
  ASSERT_TRUE(own_after.ok());
  const LeakReport own = DiffSnapshots(*own_before, *own_after);
  EXPECT_THAT(own.links, UnorderedElementsAre("(own namespace): leak0 (veth)",
                                              "(own namespace): leak1 (veth)"));
  EXPECT_THAT(own.routes, Contains("(own namespace): 10.200.0.0/24 dev leak0 table 254"));
  EXPECT_THAT(own.routes, Each(ContainsRegex("dev leak[01] ")));
}

TEST_F(TopologyTest, SweepLeavesLiveRunsAlone) {
  Build();
  const SweepReport report = SweepLeftovers();
  EXPECT_TRUE(report.ok()) << report.ToString();
  EXPECT_EQ(NamespacesWithPrefix(run_id_->NamespacePrefix()).size(), 5u);
}

// Runs the crasher (a process that builds the fixture and starts a daemon in node-a) under the
// supervisor, and waits until it says it is ready. The test process becomes a child subreaper, so
// the crasher's daemon, orphaned when the crasher dies, is reparented here and its end observable.
class CrashedRunTest : public TopologyTest {
 protected:
  void SetUp() override {
    TopologyTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  }
  void TearDown() override {
    if (geteuid() == 0) {
      prctl(PR_SET_CHILD_SUBREAPER, 0);
      // Whatever happened, this run leaves nothing.
      SweepLeftovers();
    }
    TopologyTest::TearDown();
  }

  void StartCrasher(std::string_view mode) {
    auto crasher = supervisor_->Start({.name = "crasher",
                                       .argv = {kCrasher, FixturePath(), kHealthServer, dir_,
                                                std::string(mode), run_id_->str()}});
    ASSERT_TRUE(crasher.ok()) << crasher.status();
    crasher_ = *crasher;
    for (int i = 0; i < 6000 && daemon_ == 0; ++i) {
      const std::string log = crasher_->ReadLog();
      const auto at = log.find("\nready run=" + run_id_->str() + " daemon=");
      if (at != std::string::npos && log.find('\n', at + 1) != std::string::npos) {
        daemon_ = std::stoi(log.substr(log.find("daemon=", at) + 7));
      } else {
        ASSERT_TRUE(crasher_->running()) << crasher_->ReadLog();
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    }
    ASSERT_GT(daemon_, 0) << crasher_->ReadLog();
    ASSERT_EQ(NamespacesWithPrefix(run_id_->NamespacePrefix()).size(), 5u);
  }

  // How the crasher's daemon ended. Either it outlived the crasher, was reparented here and is
  // reaped now, or it died first and the crasher's supervisor reaped it and logged how. With
  // `may_end_unlogged`, a daemon that is gone without a log footer counts as killed: an
  // interrupted crasher kills its daemons from the signal handler and then dies, and its
  // supervisor thread may reap the daemon in between without getting to write the footer.
  ExitStatus DaemonEnd(bool may_end_unlogged = false) {
    int status = 0;
    if (waitpid(daemon_, &status, 0) == daemon_) return ExitStatus::FromWaitStatus(status);
    EXPECT_EQ(errno, ECHILD);
    EXPECT_FALSE(ReadProcStat(daemon_).ok()) << "daemon " << daemon_ << " still exists";
    std::ifstream log(dir_ + "/crasher-logs/daemon.log");
    const std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    const std::string footer = "pid " + std::to_string(daemon_) + ") killed by signal ";
    const auto at = text.find(footer);
    if (at == std::string::npos) {
      if (may_end_unlogged) return {.signaled = true, .signal = SIGKILL};
      ADD_FAILURE() << "no end of the daemon in its log:\n" << text;
      return {};
    }
    return {.signaled = true, .signal = std::stoi(text.substr(at + footer.size()))};
  }

  // After a crash the run's namespaces and marker wait for a sweep. A test running in parallel may
  // sweep them first (their owner is dead, so that is right); either way it is all or nothing.
  void ExpectLeftoversOrSwept() {
    const std::size_t left = NamespacesWithPrefix(run_id_->NamespacePrefix()).size();
    const bool marker = std::filesystem::exists(RunMarkerPath(kDefaultRunMarkerDir, *run_id_));
    EXPECT_TRUE((left == 5u && marker) || (left == 0u && !marker))
        << left << " namespaces left, marker " << (marker ? "present" : "gone");
  }

  Process* crasher_ = nullptr;
  pid_t daemon_ = 0;
};

TEST_F(CrashedRunTest, AbortedRunLeavesNamespacesForTheSweep) {
  StartCrasher("abort");
  ASSERT_TRUE(crasher_->Signal(SIGUSR1).ok());  // now abort()
  auto crashed = crasher_->Wait(absl::Seconds(30));
  ASSERT_TRUE(crashed.ok());
  EXPECT_EQ(*crashed, (ExitStatus{.signaled = true, .signal = SIGABRT}));
  // The daemon died with its parent (PR_SET_PDEATHSIG).
  EXPECT_EQ(DaemonEnd(), (ExitStatus{.signaled = true, .signal = SIGKILL}));
  // abort() runs no cleanup: the namespaces and the marker of a dead owner are left.
  ExpectLeftoversOrSwept();

  const SweepReport report = SweepLeftovers();
  EXPECT_TRUE(report.ok()) << report.ToString();
  EXPECT_TRUE(NamespacesWithPrefix(run_id_->NamespacePrefix()).empty()) << report.ToString();
  EXPECT_FALSE(std::filesystem::exists(RunMarkerPath(kDefaultRunMarkerDir, *run_id_)));
  supervisor_.reset();
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

TEST_F(CrashedRunTest, KilledRunLeavesNamespacesForTheSweep) {
  StartCrasher("wait");
  ASSERT_TRUE(crasher_->Kill().ok());
  EXPECT_EQ(DaemonEnd(), (ExitStatus{.signaled = true, .signal = SIGKILL}));
  ExpectLeftoversOrSwept();
  const SweepReport report = SweepLeftovers();
  EXPECT_TRUE(report.ok()) << report.ToString();
  EXPECT_TRUE(NamespacesWithPrefix(run_id_->NamespacePrefix()).empty());
  EXPECT_FALSE(std::filesystem::exists(RunMarkerPath(kDefaultRunMarkerDir, *run_id_)));
  supervisor_.reset();
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

class InterruptedRunTest : public CrashedRunTest, public ::testing::WithParamInterface<int> {};

TEST_P(InterruptedRunTest, CleansUpBeforeDyingOfTheSignal) {
  StartCrasher("wait");
  ASSERT_TRUE(crasher_->Signal(GetParam()).ok());
  auto ended = crasher_->Wait(absl::Seconds(30));
  ASSERT_TRUE(ended.ok());
  // The handler cleaned up, then let the signal take its default course.
  EXPECT_EQ(*ended, (ExitStatus{.signaled = true, .signal = GetParam()}));
  EXPECT_EQ(DaemonEnd(/*may_end_unlogged=*/true),
            (ExitStatus{.signaled = true, .signal = SIGKILL}));
  // No sweep needed.
  EXPECT_TRUE(NamespacesWithPrefix(run_id_->NamespacePrefix()).empty());
  EXPECT_FALSE(std::filesystem::exists(RunMarkerPath(kDefaultRunMarkerDir, *run_id_)));
  supervisor_.reset();
  const LeakReport leaks = Leaks();
  EXPECT_TRUE(leaks.clean()) << leaks.ToString();
}

INSTANTIATE_TEST_SUITE_P(Signals, InterruptedRunTest, ::testing::Values(SIGINT, SIGTERM, SIGHUP),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return std::string(sigabbrev_np(info.param));
                         });

}  // namespace
}  // namespace nsmcert::harness
