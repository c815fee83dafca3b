// Privileged tests of PlanApplier: what the kernel holds after Apply, that Remove and a failed
// Apply leave the namespaces exactly as they were, and that packets cross the resulting data path.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference/kernel/plan.h"
#include "reference/kernel/testing.h"

namespace nsmcert::kernel {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using testing::NetNsSnapshot;
using testing::TakeSnapshot;
using testing::TestNetNs;

class PlanApplyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
  }

  // A namespace that lives as long as the test fixture.
  TestNetNs& NewNs(const std::string& prefix) {
    absl::StatusOr<TestNetNs> ns = TestNetNs::Create(prefix);
    EXPECT_TRUE(ns.ok()) << ns.status();
    if (!ns.ok()) std::abort();
    namespaces_.push_back(std::make_unique<TestNetNs>(*std::move(ns)));
    return *namespaces_.back();
  }

  static NetNsSnapshot Snap(TestNetNs& ns) {
    absl::StatusOr<NetNsSnapshot> snap = TakeSnapshot(ns.nl());
    EXPECT_TRUE(snap.ok()) << snap.status();
    return snap.ok() ? *snap : NetNsSnapshot{};
  }

  std::vector<std::unique_ptr<TestNetNs>> namespaces_;
};

KernelInterfaceInput FullClientInput(const TestNetNs& workload, const TestNetNs& fwd) {
  KernelInterfaceInput in;
  in.side = ConnectionSide::kClient;
  in.workload_netns = workload.ns().InodeUrl();
  in.forwarder_netns = fwd.name();
  in.interface_name = "nsm-1";
  in.forwarder_interface_name = "fwd-nsm-1";
  in.mtu = 1446;
  in.mac = "02:00:00:00:01:01";
  in.route_localnet = true;
  in.policy_priority = 2000;
  IpContextInput& ip = in.ip_context;
  ip.src_ip_addrs = {"172.16.1.101/32", "fd00:16::101/128"};
  ip.dst_ip_addrs = {"172.16.1.100/32", "fd00:16::100/128"};
  ip.src_routes = {{"172.16.1.100/32", ""}, {"10.200.0.0/16", ""}, {"fd00:16::100/128", ""}};
  ip.ip_neighbors = {{"172.16.1.100", "02:00:00:00:01:00"}};
  ip.policies = {{"172.16.1.101/32", "6", "8080", "", {}},
                 {"", "17", "5000-5010", "", {{"10.99.0.0/16", ""}}}};
  return in;
}

TEST_F(PlanApplyTest, ApplyInterfaceThenReadBackThenRemoveRestoresBoth) {
  TestNetNs& fwd = NewNs("nsk-apply-fwd");
  TestNetNs& client = NewNs("nsk-apply-nsc");
  const NetNsSnapshot fwd_before = Snap(fwd);
  const NetNsSnapshot client_before = Snap(client);

  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(FullClientInput(client, fwd));
  ASSERT_TRUE(plan.ok()) << plan.status();
  PlanApplier applier;
  absl::Status applied = applier.Apply(*plan);
  ASSERT_TRUE(applied.ok()) << applied;

  absl::StatusOr<LinkInfo> nsm = client.nl().GetLink("nsm-1");
  ASSERT_TRUE(nsm.ok()) << nsm.status();
  EXPECT_EQ(nsm->kind, "veth");
  EXPECT_EQ(nsm->mtu, 1446u);
  EXPECT_TRUE(nsm->up);
  EXPECT_EQ(nsm->mac, "02:00:00:00:01:01");
  absl::StatusOr<std::string> localnet =
      ReadNetSysctl(client.ns(), "net/ipv4/conf/nsm-1/route_localnet");
  ASSERT_TRUE(localnet.ok()) << localnet.status();
  EXPECT_EQ(*localnet, "1");
  absl::StatusOr<LinkInfo> fwd_end = fwd.nl().GetLink("fwd-nsm-1");
  ASSERT_TRUE(fwd_end.ok()) << fwd_end.status();
  EXPECT_TRUE(fwd_end->up);
  EXPECT_EQ(fwd_end->mtu, 1446u);

  std::vector<std::string> cidrs;
  absl::StatusOr<std::vector<AddressInfo>> addrs = client.nl().ListAddresses("nsm-1");
  ASSERT_TRUE(addrs.ok()) << addrs.status();
  for (const AddressInfo& a : *addrs) {
    if (a.cidr.rfind("fe80:", 0) != 0) cidrs.push_back(a.cidr);  // the kernel's own link-local
  }
  EXPECT_THAT(cidrs, ::testing::UnorderedElementsAre("172.16.1.101/32", "fd00:16::101/128"));

  absl::StatusOr<std::vector<RouteInfo>> routes = client.nl().ListRoutes(0);
  ASSERT_TRUE(routes.ok());
  auto has_route = [&](const std::string& prefix, const std::string& via, std::uint32_t table) {
    return std::any_of(routes->begin(), routes->end(), [&](const RouteInfo& r) {
      return r.prefix == prefix && r.via == via && r.table == table && r.device == "nsm-1";
    });
  };
  EXPECT_TRUE(has_route("172.16.1.100/32", "", kMainTable));
  EXPECT_TRUE(has_route("10.200.0.0/16", "172.16.1.100", kMainTable));
  EXPECT_TRUE(has_route("fd00:16::100/128", "", kMainTable));
  EXPECT_TRUE(has_route("0.0.0.0/0", "172.16.1.100", 1));
  EXPECT_TRUE(has_route("10.99.0.0/16", "172.16.1.100", 2));

  absl::StatusOr<std::vector<RuleSpec>> rules = client.nl().ListRules();
  ASSERT_TRUE(rules.ok());
  EXPECT_THAT(*rules, Contains(plan->rules[0]));
  EXPECT_THAT(*rules, Contains(plan->rules[1]));

  absl::StatusOr<std::vector<NeighborInfo>> neighbors = client.nl().ListNeighbors("nsm-1");
  ASSERT_TRUE(neighbors.ok());
  EXPECT_THAT(*neighbors,
              Contains(NeighborInfo{"nsm-1", "172.16.1.100", "02:00:00:00:01:00", true}));

  absl::Status removed = applier.Remove(*plan);
  ASSERT_TRUE(removed.ok()) << removed;
  EXPECT_EQ(Snap(fwd), fwd_before) << testing::DiffSnapshots(fwd_before, Snap(fwd));
  EXPECT_EQ(Snap(client), client_before) << testing::DiffSnapshots(client_before, Snap(client));
  // Remove is idempotent.
  EXPECT_TRUE(applier.Remove(*plan).ok());
}

TEST_F(PlanApplyTest, NameTakenInWorkloadNamespaceFailsAndLeavesNothing) {
  TestNetNs& fwd = NewNs("nsk-taken-fwd");
  TestNetNs& client = NewNs("nsk-taken-nsc");
  ASSERT_TRUE(client.nl().CreateBridge("nsm-1").ok());
  const NetNsSnapshot fwd_before = Snap(fwd);
  const NetNsSnapshot client_before = Snap(client);
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(FullClientInput(client, fwd));
  ASSERT_TRUE(plan.ok());
  absl::Status applied = PlanApplier().Apply(*plan);
  EXPECT_EQ(applied.code(), absl::StatusCode::kAlreadyExists) << applied;
  EXPECT_THAT(std::string(applied.message()), HasSubstr("nsm-1"));
  EXPECT_EQ(Snap(fwd), fwd_before) << testing::DiffSnapshots(fwd_before, Snap(fwd));
  EXPECT_EQ(Snap(client), client_before) << testing::DiffSnapshots(client_before, Snap(client));
}

TEST_F(PlanApplyTest, ConflictingRuleLateInTheApplyUndoesEarlierSteps) {
  TestNetNs& fwd = NewNs("nsk-conf-fwd");
  TestNetNs& client = NewNs("nsk-conf-nsc");
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(FullClientInput(client, fwd));
  ASSERT_TRUE(plan.ok());
  // The second policy rule already exists: the apply gets as far as the rules, then must undo
  // the first rule, the routes, addresses and the veth pair.
  ASSERT_TRUE(client.nl().AddRule(plan->rules[1]).ok());
  const NetNsSnapshot fwd_before = Snap(fwd);
  const NetNsSnapshot client_before = Snap(client);
  absl::Status applied = PlanApplier().Apply(*plan);
  EXPECT_EQ(applied.code(), absl::StatusCode::kAlreadyExists) << applied;
  EXPECT_THAT(std::string(applied.message()), HasSubstr("table 2"));
  EXPECT_EQ(Snap(fwd), fwd_before) << testing::DiffSnapshots(fwd_before, Snap(fwd));
  EXPECT_EQ(Snap(client), client_before) << testing::DiffSnapshots(client_before, Snap(client));
}

TEST_F(PlanApplyTest, FailureInjectedAtEveryStepLeavesNothing) {
  TestNetNs& fwd = NewNs("nsk-inj-fwd");
  TestNetNs& client = NewNs("nsk-inj-nsc");
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(FullClientInput(client, fwd));
  ASSERT_TRUE(plan.ok());
  const NetNsSnapshot fwd_before = Snap(fwd);
  const NetNsSnapshot client_before = Snap(client);

  // Count the steps of a clean apply first.
  int total = 0;
  {
    PlanApplier counting;
    counting.set_fault_injector([&](std::string_view) {
      ++total;
      return absl::OkStatus();
    });
    ASSERT_TRUE(counting.Apply(*plan).ok());
    ASSERT_TRUE(counting.Remove(*plan).ok());
  }
  ASSERT_GT(total, 10);

  for (int fail_at = 1; fail_at <= total; ++fail_at) {
    PlanApplier applier;
    int step = 0;
    std::string failed_step;
    applier.set_fault_injector([&](std::string_view description) {
      if (++step == fail_at) {
        failed_step = std::string(description);
        return absl::UnavailableError("injected");
      }
      return absl::OkStatus();
    });
    absl::Status applied = applier.Apply(*plan);
    EXPECT_EQ(applied.code(), absl::StatusCode::kUnavailable) << "step " << fail_at;
    EXPECT_THAT(std::string(applied.message()), HasSubstr(failed_step));
    EXPECT_EQ(Snap(fwd), fwd_before) << "failing step " << fail_at << " (" << failed_step << ")\n"
                                     << testing::DiffSnapshots(fwd_before, Snap(fwd));
    EXPECT_EQ(Snap(client), client_before)
        << "failing step " << fail_at << " (" << failed_step << ")\n"
        << testing::DiffSnapshots(client_before, Snap(client));
  }
}

TEST_F(PlanApplyTest, MissingWorkloadNamespaceIsNotFound) {
  TestNetNs& fwd = NewNs("nsk-miss-fwd");
  TestNetNs& client = NewNs("nsk-miss-nsc");
  KernelInterfaceInput in = FullClientInput(client, fwd);
  in.workload_netns = "inode://4/1";
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok());
  absl::Status applied = PlanApplier().Apply(*plan);
  EXPECT_EQ(applied.code(), absl::StatusCode::kNotFound) << applied;
  EXPECT_THAT(std::string(applied.message()), HasSubstr("inode://4/1"));
  // Remove of a plan whose namespace vanished succeeds (nothing left to remove).
  EXPECT_TRUE(PlanApplier().Remove(*plan).ok());
}

TEST_F(PlanApplyTest, VxlanAndXconnectPlansApplyAndRemove) {
  TestNetNs& node = NewNs("nsk-vx-node");
  TestNetNs& peer = NewNs("nsk-vx-peer");
  ASSERT_TRUE(node.nl().CreateVeth("under0", "under1", &peer.ns()).ok());
  ASSERT_TRUE(node.nl().AddAddress("under0", "192.0.2.1/24").ok());
  ASSERT_TRUE(node.nl().SetUp("under0", true).ok());
  ASSERT_TRUE(node.nl().CreateVeth("fwd-a", "fwd-a-peer").ok());
  const NetNsSnapshot before = Snap(node);

  VxlanInput vin;
  vin.netns = node.ns().InodeUrl();
  vin.name = "vx-77";
  vin.vni = 77;
  vin.local_ip = "192.0.2.1";
  vin.remote_ip = "192.0.2.2";
  vin.underlay_device = "under0";
  vin.underlay_mtu = 1500;
  absl::StatusOr<VxlanPlan> vx = BuildVxlanPlan(vin);
  ASSERT_TRUE(vx.ok()) << vx.status();
  absl::StatusOr<XconnectPlan> xc = BuildXconnectPlan({node.name(), "fwd-a", "vx-77"});
  ASSERT_TRUE(xc.ok());

  PlanApplier applier;
  ASSERT_TRUE(applier.Apply(*vx).ok());
  ASSERT_TRUE(applier.Apply(*xc).ok());
  absl::StatusOr<LinkInfo> link = node.nl().GetLink("vx-77");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->vxlan_vni, 77u);
  EXPECT_EQ(link->mtu, 1446u);
  EXPECT_TRUE(link->up);
  EXPECT_EQ(*node.nl().IngressRedirectTarget("fwd-a"), link->index);
  EXPECT_EQ(*node.nl().IngressRedirectTarget("vx-77"), *node.nl().LinkIndex("fwd-a"));

  // A second cross-connect of the same device fails and leaves the first one intact.
  absl::StatusOr<XconnectPlan> clash = BuildXconnectPlan({node.name(), "fwd-a-peer", "fwd-a"});
  ASSERT_TRUE(clash.ok());
  const NetNsSnapshot applied = Snap(node);
  EXPECT_EQ(applier.Apply(*clash).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(Snap(node), applied) << testing::DiffSnapshots(applied, Snap(node));

  ASSERT_TRUE(applier.Remove(*xc).ok());
  ASSERT_TRUE(applier.Remove(*vx).ok());
  EXPECT_EQ(Snap(node), before) << testing::DiffSnapshots(before, Snap(node));
  EXPECT_TRUE(applier.Remove(*xc).ok());
  EXPECT_TRUE(applier.Remove(*vx).ok());
}

// The plans of a local connection: client <-veth-> fwd <-veth-> endpoint on the /31 `subnet`
// (client .1, endpoint .0), the two forwarder ends cross-connected. The client side names the
// forwarder namespace by `client_side_fwd_ref`, the endpoint side and the cross-connect by its
// inode URL.
struct LocalConnectionPlans {
  InterfacePlan nsc;
  InterfacePlan nse;
  XconnectPlan xc;
};
absl::StatusOr<LocalConnectionPlans> BuildLocalConnectionPlans(
    const TestNetNs& client, const TestNetNs& fwd, const TestNetNs& endpoint,
    const std::string& subnet, const std::string& client_side_fwd_ref) {
  IpContextInput ip;
  ip.src_ip_addrs = {subnet + ".1/31"};
  ip.dst_ip_addrs = {subnet + ".0/31"};
  KernelInterfaceInput nsc;
  nsc.side = ConnectionSide::kClient;
  nsc.workload_netns = client.ns().InodeUrl();
  nsc.forwarder_netns = client_side_fwd_ref;
  nsc.interface_name = "nsm-1";
  nsc.forwarder_interface_name = "fwd-nsc";
  nsc.ip_context = ip;
  KernelInterfaceInput nse = nsc;
  nse.side = ConnectionSide::kEndpoint;
  nse.workload_netns = endpoint.ns().InodeUrl();
  nse.forwarder_netns = fwd.ns().InodeUrl();
  nse.interface_name = "nse-1";
  nse.forwarder_interface_name = "fwd-nse";
  absl::StatusOr<InterfacePlan> nsc_plan = BuildInterfacePlan(nsc);
  if (!nsc_plan.ok()) return nsc_plan.status();
  absl::StatusOr<InterfacePlan> nse_plan = BuildInterfacePlan(nse);
  if (!nse_plan.ok()) return nse_plan.status();
  absl::StatusOr<XconnectPlan> xc = BuildXconnectPlan({fwd.ns().InodeUrl(), "fwd-nsc", "fwd-nse"});
  if (!xc.ok()) return xc.status();
  return LocalConnectionPlans{*std::move(nsc_plan), *std::move(nse_plan), *std::move(xc)};
}

// client <-veth-> fwd <-veth-> endpoint, the two fwd ends cross-connected by tc redirects, the
// way the reference forwarder joins a local NSC and NSE.
TEST_F(PlanApplyTest, PingCrossesLocalCrossConnect) {
  TestNetNs& client = NewNs("nsk-dp-nsc");
  TestNetNs& fwd = NewNs("nsk-dp-fwd");
  TestNetNs& endpoint = NewNs("nsk-dp-nse");
  absl::StatusOr<LocalConnectionPlans> plans =
      BuildLocalConnectionPlans(client, fwd, endpoint, "10.80.0", fwd.ns().InodeUrl());
  ASSERT_TRUE(plans.ok()) << plans.status();
  PlanApplier applier;
  ASSERT_TRUE(applier.Apply(plans->nsc).ok());
  ASSERT_TRUE(applier.Apply(plans->nse).ok());

  // Not joined yet: nothing crosses.
  absl::StatusOr<int> before = testing::Ping(client.ns(), "10.80.0.0", 1, 300);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, 0);

  ASSERT_TRUE(applier.Apply(plans->xc).ok());
  absl::StatusOr<int> replies = testing::Ping(client.ns(), "10.80.0.0", 3, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 3);
  absl::StatusOr<int> back = testing::Ping(endpoint.ns(), "10.80.0.1", 2, 2000);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 2);

  // Taking the cross-connect down cuts the path again.
  ASSERT_TRUE(applier.Remove(plans->xc).ok());
  absl::StatusOr<int> after = testing::Ping(client.ns(), "10.80.0.0", 1, 300);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, 0);
  EXPECT_TRUE(applier.Remove(plans->nsc).ok());
  EXPECT_TRUE(applier.Remove(plans->nse).ok());
}

// The number of open file descriptors of this process: a socket or namespace handle the applier
// kept would show here (and would pin its namespace).
size_t OpenFds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// A snapshot without what differs each time a veth is made: its random MAC, and the IPv6
// link-local address (and routes) derived from it, which also appear only once DAD is done.
std::vector<std::string> Stable(const NetNsSnapshot& snap) {
  std::vector<std::string> out;
  for (std::string line : snap.lines) {
    if (line.find("fe80:") != std::string::npos) continue;
    size_t mac = line.find(" mac=");
    if (mac != std::string::npos) line.erase(mac, line.find(' ', mac + 1) - mac);
    out.push_back(std::move(line));
  }
  return out;
}

// A local connection (client and endpoint interfaces, cross-connect) applied and removed within
// one SocketScope uses one socket per namespace, even where two references name one namespace,
// leaves the same kernel state as calls that each open their own, and closes everything at the
// end of the scope.
TEST_F(PlanApplyTest, OneScopeOpensOneSocketPerNamespaceAndLeavesTheSameState) {
  TestNetNs& client = NewNs("nsk-sc-nsc");
  TestNetNs& fwd = NewNs("nsk-sc-fwd");
  TestNetNs& endpoint = NewNs("nsk-sc-nse");
  const NetNsSnapshot fwd_before = Snap(fwd);
  const NetNsSnapshot client_before = Snap(client);
  const NetNsSnapshot endpoint_before = Snap(endpoint);
  // The client side names the forwarder namespace, the rest uses its inode URL: one socket serves.
  absl::StatusOr<LocalConnectionPlans> plans =
      BuildLocalConnectionPlans(client, fwd, endpoint, "10.81.0", fwd.name());
  ASSERT_TRUE(plans.ok()) << plans.status();

  // Calls without a scope: each opens its own sockets.
  PlanApplier separate;
  ASSERT_TRUE(separate.Apply(plans->nsc).ok());
  ASSERT_TRUE(separate.Apply(plans->nse).ok());
  ASSERT_TRUE(separate.Apply(plans->xc).ok());
  EXPECT_EQ(separate.sockets_opened(), 5);
  const std::vector<std::string> fwd_separate = Stable(Snap(fwd));
  const std::vector<std::string> client_separate = Stable(Snap(client));
  const std::vector<std::string> endpoint_separate = Stable(Snap(endpoint));
  ASSERT_TRUE(separate.Remove(plans->xc).ok());
  ASSERT_TRUE(separate.Remove(plans->nse).ok());
  ASSERT_TRUE(separate.Remove(plans->nsc).ok());
  EXPECT_EQ(Snap(fwd), fwd_before) << testing::DiffSnapshots(fwd_before, Snap(fwd));

  const size_t fds_before = OpenFds();
  PlanApplier applier;
  EXPECT_EQ(applier.NetlinkIn(fwd.name(), "forwarder").status().code(),
            absl::StatusCode::kFailedPrecondition);
  {
    PlanApplier::SocketScope scope(applier);
    ASSERT_TRUE(applier.Apply(plans->nsc).ok());
    ASSERT_TRUE(applier.Apply(plans->nse).ok());
    ASSERT_TRUE(applier.Apply(plans->xc).ok());
    EXPECT_EQ(applier.sockets_opened(), 3);  // client, forwarder, endpoint
    absl::StatusOr<Netlink*> shared = applier.NetlinkIn(fwd.name(), "forwarder");
    ASSERT_TRUE(shared.ok()) << shared.status();
    EXPECT_EQ(*applier.NetlinkIn(fwd.ns().InodeUrl(), "forwarder"), *shared);
    EXPECT_TRUE((*shared)->GetLink("fwd-nse").ok());
    EXPECT_EQ(applier.sockets_opened(), 3);
  }
  EXPECT_EQ(OpenFds(), fds_before);
  EXPECT_EQ(Stable(Snap(fwd)), fwd_separate);
  EXPECT_EQ(Stable(Snap(client)), client_separate);
  EXPECT_EQ(Stable(Snap(endpoint)), endpoint_separate);
  absl::StatusOr<int> replies = testing::Ping(client.ns(), "10.81.0.0", 2, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 2);

  {
    PlanApplier::SocketScope scope(applier);
    ASSERT_TRUE(applier.Remove(plans->xc).ok());
    ASSERT_TRUE(applier.Remove(plans->nse).ok());
    ASSERT_TRUE(applier.Remove(plans->nsc).ok());
    EXPECT_EQ(applier.sockets_opened(), 6);
  }
  EXPECT_EQ(OpenFds(), fds_before);
  EXPECT_EQ(Snap(fwd), fwd_before) << testing::DiffSnapshots(fwd_before, Snap(fwd));
  EXPECT_EQ(Snap(client), client_before) << testing::DiffSnapshots(client_before, Snap(client));
  EXPECT_EQ(Snap(endpoint), endpoint_before)
      << testing::DiffSnapshots(endpoint_before, Snap(endpoint));
}

// workload1 - node1 =[VXLAN over an underlay veth]= node2 - workload2: each node cross-connects
// its workload's veth end with its VXLAN device.
TEST_F(PlanApplyTest, PingCrossesVxlanBetweenTwoNodes) {
  TestNetNs& node1 = NewNs("nsk-vx-n1");
  TestNetNs& node2 = NewNs("nsk-vx-n2");
  TestNetNs& work1 = NewNs("nsk-vx-w1");
  TestNetNs& work2 = NewNs("nsk-vx-w2");
  ASSERT_TRUE(node1.nl().CreateVeth("under", "under", &node2.ns()).ok());
  ASSERT_TRUE(node1.nl().AddAddress("under", "192.0.2.1/24").ok());
  ASSERT_TRUE(node2.nl().AddAddress("under", "192.0.2.2/24").ok());
  ASSERT_TRUE(node1.nl().SetUp("under", true).ok());
  ASSERT_TRUE(node2.nl().SetUp("under", true).ok());

  IpContextInput ip;
  ip.src_ip_addrs = {"10.90.0.1/31"};
  ip.dst_ip_addrs = {"10.90.0.0/31"};
  struct Side {
    TestNetNs* node;
    TestNetNs* work;
    ConnectionSide side;
    std::string local, remote;
  };
  PlanApplier applier;
  std::vector<InterfacePlan> interfaces;
  std::vector<VxlanPlan> tunnels;
  std::vector<XconnectPlan> xconnects;
  for (const Side& s :
       {Side{&node1, &work1, ConnectionSide::kClient, "192.0.2.1", "192.0.2.2"},
        Side{&node2, &work2, ConnectionSide::kEndpoint, "192.0.2.2", "192.0.2.1"}}) {
    VxlanInput vin;
    vin.netns = s.node->name();
    vin.name = "vxlan-9";
    vin.vni = 9;
    vin.local_ip = s.local;
    vin.remote_ip = s.remote;
    vin.underlay_device = "under";
    vin.underlay_mtu = 1500;
    absl::StatusOr<VxlanPlan> vx = BuildVxlanPlan(vin);
    ASSERT_TRUE(vx.ok()) << vx.status();
    KernelInterfaceInput kin;
    kin.side = s.side;
    kin.workload_netns = s.work->ns().InodeUrl();
    kin.forwarder_netns = s.node->name();
    kin.interface_name = "nsm-vx";
    kin.forwarder_interface_name = "fwd-vx";
    kin.mtu = vx->spec.mtu;
    kin.ip_context = ip;
    absl::StatusOr<InterfacePlan> iface = BuildInterfacePlan(kin);
    ASSERT_TRUE(iface.ok()) << iface.status();
    absl::StatusOr<XconnectPlan> xc = BuildXconnectPlan({s.node->name(), "fwd-vx", "vxlan-9"});
    ASSERT_TRUE(xc.ok());
    absl::Status st = applier.Apply(*vx);
    ASSERT_TRUE(st.ok()) << st;
    st = applier.Apply(*iface);
    ASSERT_TRUE(st.ok()) << st;
    st = applier.Apply(*xc);
    ASSERT_TRUE(st.ok()) << st;
    tunnels.push_back(*vx);
    interfaces.push_back(*iface);
    xconnects.push_back(*xc);
  }
  EXPECT_EQ(work1.nl().GetLink("nsm-vx")->mtu, 1446u);

  absl::StatusOr<int> replies = testing::Ping(work1.ns(), "10.90.0.0", 3, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 3);
  absl::StatusOr<int> back = testing::Ping(work2.ns(), "10.90.0.1", 2, 2000);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, 2);

  for (size_t i = 0; i < interfaces.size(); ++i) {
    EXPECT_TRUE(applier.Remove(xconnects[i]).ok());
    EXPECT_TRUE(applier.Remove(interfaces[i]).ok());
    EXPECT_TRUE(applier.Remove(tunnels[i]).ok());
  }
  // The interface is gone, so there is not even a route to send on.
  absl::StatusOr<int> after = testing::Ping(work1.ns(), "10.90.0.0", 1, 300);
  EXPECT_FALSE(after.ok() && *after > 0);
  EXPECT_FALSE(work1.nl().GetLink("nsm-vx").ok());
  EXPECT_FALSE(node1.nl().GetLink("vxlan-9").ok());
}

}  // namespace
}  // namespace nsmcert::kernel
