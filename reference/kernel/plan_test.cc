#include "reference/kernel/plan.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::kernel {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A client-side input as the p2p IPAM of spec §6 produces it for 172.16.1.100/31:
// NSE 172.16.1.100, NSC 172.16.1.101, src_routes += dst/32, dst_routes += src/32.
KernelInterfaceInput ClientInput() {
  KernelInterfaceInput in;
  in.side = ConnectionSide::kClient;
  in.workload_netns = "inode://4/4026532000";
  in.interface_name = "nsm-1";
  in.forwarder_interface_name = "fwd-nsc-1";
  in.mtu = 1446;
  in.ip_context.src_ip_addrs = {"172.16.1.101/32"};
  in.ip_context.dst_ip_addrs = {"172.16.1.100/32"};
  in.ip_context.src_routes = {{"172.16.1.100/32", ""}};
  in.ip_context.dst_routes = {{"172.16.1.101/32", ""}};
  return in;
}

std::string ErrorOf(const KernelInterfaceInput& in) {
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  EXPECT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(plan.status().message());
}

TEST(InterfacePlanTest, ClientSideTakesSrcAddressesAndRoutes) {
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(ClientInput());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->interface_name, "nsm-1");
  EXPECT_EQ(plan->forwarder_interface_name, "fwd-nsc-1");
  EXPECT_EQ(plan->mtu, 1446u);
  EXPECT_THAT(plan->addresses, ElementsAre("172.16.1.101/32"));
  ASSERT_EQ(plan->routes.size(), 1u);
  // The NSE's /32 lies inside the other side's prefix: directly on the interface.
  EXPECT_EQ(plan->routes[0].prefix, "172.16.1.100/32");
  EXPECT_EQ(plan->routes[0].via, "");
  EXPECT_EQ(plan->routes[0].device, "nsm-1");
  EXPECT_EQ(plan->routes[0].table, kMainTable);
  EXPECT_THAT(plan->rules, IsEmpty());
}

TEST(InterfacePlanTest, EndpointSideTakesDstAddressesAndRoutes) {
  KernelInterfaceInput in = ClientInput();
  in.side = ConnectionSide::kEndpoint;
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->addresses, ElementsAre("172.16.1.100/32"));
  ASSERT_EQ(plan->routes.size(), 1u);
  EXPECT_EQ(plan->routes[0].prefix, "172.16.1.101/32");
  EXPECT_EQ(plan->routes[0].via, "");
}

TEST(InterfacePlanTest, ImpliedNextHopIsFirstOtherSideAddressOfSameFamily) {
  KernelInterfaceInput in = ClientInput();
  in.ip_context.dst_ip_addrs = {"fd00::100/128", "172.16.1.100/32", "172.16.1.102/32"};
  in.ip_context.src_routes = {{"10.0.0.0/8", ""}, {"fd10::/64", ""}};
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->routes.size(), 2u);
  EXPECT_EQ(plan->routes[0].prefix, "10.0.0.0/8");
  EXPECT_EQ(plan->routes[0].via, "172.16.1.100");
  EXPECT_TRUE(plan->routes[0].onlink);
  EXPECT_EQ(plan->routes[1].prefix, "fd10::/64");
  EXPECT_EQ(plan->routes[1].via, "fd00::100");
}

TEST(InterfacePlanTest, ExplicitNextHopWinsAndRouteInsideOtherPrefixIsOnLink) {
  KernelInterfaceInput in = ClientInput();
  in.ip_context.dst_ip_addrs = {"10.60.0.1/24"};
  in.ip_context.src_routes = {{"10.60.0.0/25", ""}, {"192.168.0.0/16", "10.60.0.254"}};
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->routes.size(), 2u);
  EXPECT_EQ(plan->routes[0].via, "");  // inside 10.60.0.0/24
  EXPECT_EQ(plan->routes[1].via, "10.60.0.254");
  EXPECT_TRUE(plan->routes[1].onlink);
}

TEST(InterfacePlanTest, NoOtherSideAddressOfTheFamilyMeansDirectRoute) {
  KernelInterfaceInput in = ClientInput();
  in.ip_context.src_routes = {{"fd10::/64", ""}};
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->routes.size(), 1u);
  EXPECT_EQ(plan->routes[0].via, "");
}

TEST(InterfacePlanTest, RoutePrefixesAreNormalisedToTheirNetwork) {
  KernelInterfaceInput in = ClientInput();
  in.ip_context.src_routes = {{"10.1.2.3/16", ""}};
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->routes[0].prefix, "10.1.0.0/16");
}

TEST(InterfacePlanTest, PoliciesGetNumberedTablesRulesAndDefaultRoutes) {
  KernelInterfaceInput in = ClientInput();
  in.policy_priority = 100;
  in.ip_context.policies = {
      {"172.16.1.101/32", "6", "8080", "", {}},
      {"172.16.1.101",
       "udp",
       "5000-5010",
       "53",
       {{"10.99.0.0/16", ""}, {"10.98.0.0/16", "10.1.1.1"}}},
      {"", "", "", "", {}},
  };
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->rules.size(), 3u);
  EXPECT_EQ(plan->rules[0].table, 1u);
  EXPECT_EQ(plan->rules[0].priority, 100u);
  EXPECT_EQ(plan->rules[0].from, "172.16.1.101/32");
  EXPECT_EQ(plan->rules[0].ipproto, 6);
  EXPECT_EQ(plan->rules[0].dport, (PortRange{8080, 8080}));
  EXPECT_TRUE(plan->rules[0].sport.empty());
  EXPECT_EQ(plan->rules[1].table, 2u);
  EXPECT_EQ(plan->rules[1].priority, 101u);
  EXPECT_EQ(plan->rules[1].ipproto, 17);
  EXPECT_EQ(plan->rules[1].from, "172.16.1.101/32");
  EXPECT_EQ(plan->rules[1].dport, (PortRange{5000, 5010}));
  EXPECT_EQ(plan->rules[1].sport, (PortRange{53, 53}));
  EXPECT_EQ(plan->rules[2].table, 3u);
  EXPECT_EQ(plan->rules[2].from, "");
  EXPECT_FALSE(plan->rules[2].ipv6);

  // Main-table route first, then the policy tables' routes in order.
  ASSERT_EQ(plan->routes.size(), 5u);
  EXPECT_EQ(plan->routes[1].table, 1u);
  EXPECT_EQ(plan->routes[1].prefix, "0.0.0.0/0");
  EXPECT_EQ(plan->routes[1].via, "172.16.1.100");
  EXPECT_EQ(plan->routes[2].table, 2u);
  EXPECT_EQ(plan->routes[2].prefix, "10.99.0.0/16");
  EXPECT_EQ(plan->routes[2].via, "172.16.1.100");
  EXPECT_EQ(plan->routes[3].table, 2u);
  EXPECT_EQ(plan->routes[3].via, "10.1.1.1");
  EXPECT_EQ(plan->routes[4].table, 3u);
  EXPECT_EQ(plan->routes[4].prefix, "0.0.0.0/0");
}

TEST(InterfacePlanTest, Ipv6PolicyGetsIpv6RuleAndDefaultRoute) {
  KernelInterfaceInput in = ClientInput();
  in.ip_context.src_ip_addrs = {"fd00::1/128"};
  in.ip_context.dst_ip_addrs = {"fd00::/128"};
  in.ip_context.src_routes = {};
  in.ip_context.policies = {{"fd00::1/128", "", "", "", {}}};
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->rules.size(), 1u);
  EXPECT_TRUE(plan->rules[0].ipv6);
  ASSERT_EQ(plan->routes.size(), 1u);
  EXPECT_EQ(plan->routes[0].prefix, "::/0");
  EXPECT_EQ(plan->routes[0].via, "fd00::");
}

TEST(InterfacePlanTest, NeighboursAreCarried) {
  KernelInterfaceInput in = ClientInput();
  in.ip_context.ip_neighbors = {{"172.16.1.100", "02:aa:bb:cc:dd:ee"}};
  absl::StatusOr<InterfacePlan> plan = BuildInterfacePlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_EQ(plan->neighbors.size(), 1u);
  EXPECT_EQ(plan->neighbors[0].ip, "172.16.1.100");
}

TEST(InterfacePlanTest, ValidationErrorsNameTheField) {
  KernelInterfaceInput in = ClientInput();
  in.interface_name = "nsm-0123456789ab";  // 16 bytes
  EXPECT_THAT(ErrorOf(in), HasSubstr("interface_name"));
  in = ClientInput();
  in.interface_name = "";
  EXPECT_THAT(ErrorOf(in), HasSubstr("interface_name is empty"));
  in = ClientInput();
  in.forwarder_interface_name = "bad/name";
  EXPECT_THAT(ErrorOf(in), HasSubstr("forwarder_interface_name"));
  in = ClientInput();
  in.workload_netns = "";
  EXPECT_THAT(ErrorOf(in), HasSubstr("workload_netns: missing"));
  in = ClientInput();
  in.workload_netns = "inode://4";
  EXPECT_THAT(ErrorOf(in), HasSubstr("workload_netns"));
  in = ClientInput();
  in.forwarder_netns = "unix:///x";
  EXPECT_THAT(ErrorOf(in), HasSubstr("forwarder_netns"));
  in = ClientInput();
  in.ip_context.src_ip_addrs = {"172.16.1.101/32", "172.16.1.300/32"};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.src_ip_addrs[1]"));
  in = ClientInput();
  in.ip_context.dst_ip_addrs = {"172.16.1.100"};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.dst_ip_addrs[0]"));
  in = ClientInput();
  in.ip_context.src_routes = {{"10.0.0.0/33", ""}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.src_routes[0].prefix"));
  in = ClientInput();
  in.ip_context.src_routes = {{"10.0.0.0/8", "fd00::1"}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.src_routes[0].next_hop"));
  in = ClientInput();
  in.side = ConnectionSide::kEndpoint;
  in.ip_context.dst_routes = {{"x", ""}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.dst_routes[0].prefix"));
  in = ClientInput();
  in.ip_context.ip_neighbors = {{"10.0.0.1", "not-a-mac"}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.ip_neighbors[0].hardware_address"));
  in = ClientInput();
  in.ip_context.policies = {{"", "", "", "", {}}, {"", "tcpx", "", "", {}}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.policies[1].proto"));
  in = ClientInput();
  in.ip_context.policies = {{"", "6", "99999", "", {}}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.policies[0].dst_port"));
  in = ClientInput();
  in.ip_context.policies = {{"", "6", "", "2-1", {}}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.policies[0].src_port"));
  in = ClientInput();
  in.ip_context.policies = {{"10.0.0.0/8", "", "", "", {{"fd00::/64", ""}}}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("ip_context.policies[0].routes[0].prefix"));
  in = ClientInput();
  in.first_policy_table = 254;
  in.ip_context.policies = {{"", "", "", "", {}}};
  EXPECT_THAT(ErrorOf(in), HasSubstr("reserved table"));
  in = ClientInput();
  in.mtu = 10;
  EXPECT_THAT(ErrorOf(in), HasSubstr("mtu"));
  in = ClientInput();
  in.mac = "02:00:00:00:00";
  EXPECT_THAT(ErrorOf(in), HasSubstr("mac"));
}

TEST(VxlanPlanTest, MtuArithmetic) {
  EXPECT_EQ(VxlanOverhead(IpFamily::kV4), 54u);
  EXPECT_EQ(VxlanOverhead(IpFamily::kV6), 74u);
  EXPECT_EQ(*VxlanMtu(1500, IpFamily::kV4), 1446u);
  EXPECT_EQ(*VxlanMtu(1500, IpFamily::kV6), 1426u);
  EXPECT_EQ(*VxlanMtu(9000, IpFamily::kV4), 8946u);
  EXPECT_FALSE(VxlanMtu(100, IpFamily::kV4).ok());
  EXPECT_TRUE(VxlanMtu(122, IpFamily::kV4).ok());
}

VxlanInput VxInput() {
  VxlanInput in;
  in.name = "vxlan-1";
  in.vni = 100;
  in.local_ip = "192.0.2.1";
  in.remote_ip = "192.0.2.2";
  in.underlay_mtu = 1500;
  return in;
}

TEST(VxlanPlanTest, BuildsSpecWithDefaultPortAndComputedMtu) {
  absl::StatusOr<VxlanPlan> plan = BuildVxlanPlan(VxInput());
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spec.dst_port, 4789);
  EXPECT_EQ(plan->spec.mtu, 1446u);
  EXPECT_FALSE(plan->spec.learning);
  VxlanInput in = VxInput();
  in.local_ip = "fd00::1";
  in.remote_ip = "fd00::2";
  in.port = 8472;
  plan = BuildVxlanPlan(in);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->spec.mtu, 1426u);
  EXPECT_EQ(plan->spec.dst_port, 8472);
}

TEST(VxlanPlanTest, NegotiatedMtuMayBeLowerButNotHigher) {
  VxlanInput in = VxInput();
  in.mtu = 1400;
  EXPECT_EQ(BuildVxlanPlan(in)->spec.mtu, 1400u);
  in.mtu = 1447;
  absl::StatusOr<VxlanPlan> plan = BuildVxlanPlan(in);
  EXPECT_FALSE(plan.ok());
  EXPECT_THAT(std::string(plan.status().message()), HasSubstr("mtu"));
}

TEST(VxlanPlanTest, ValidationErrors) {
  auto error = [](VxlanInput in) {
    absl::StatusOr<VxlanPlan> plan = BuildVxlanPlan(in);
    EXPECT_FALSE(plan.ok());
    return std::string(plan.status().message());
  };
  VxlanInput in = VxInput();
  in.vni = 0;
  EXPECT_THAT(error(in), HasSubstr("VNI 0"));
  in = VxInput();
  in.vni = 1u << 24;
  EXPECT_THAT(error(in), HasSubstr("VNI 16777216"));
  in = VxInput();
  in.vni = (1u << 24) - 1;
  EXPECT_TRUE(BuildVxlanPlan(in).ok());
  in = VxInput();
  in.name = "vxlan-name-too-long";
  EXPECT_THAT(error(in), HasSubstr("vxlan name"));
  in = VxInput();
  in.local_ip = "";
  EXPECT_THAT(error(in), HasSubstr("local_ip"));
  in = VxInput();
  in.remote_ip = "fd00::2";
  EXPECT_THAT(error(in), HasSubstr("family"));
  in = VxInput();
  in.remote_ip = "nope";
  EXPECT_THAT(error(in), HasSubstr("remote_ip"));
  in = VxInput();
  in.underlay_mtu = 0;
  EXPECT_THAT(error(in), HasSubstr("underlay_mtu"));
  in = VxInput();
  in.netns = "inode://x/1";
  EXPECT_THAT(error(in), HasSubstr("netns"));
}

TEST(XconnectPlanTest, Validation) {
  EXPECT_TRUE(BuildXconnectPlan({"", "fwd-a", "fwd-b"}).ok());
  EXPECT_THAT(std::string(BuildXconnectPlan({"", "fwd-a", "fwd-a"}).status().message()),
              HasSubstr("same device"));
  EXPECT_THAT(std::string(BuildXconnectPlan({"", "", "fwd-b"}).status().message()),
              HasSubstr("a is empty"));
  EXPECT_FALSE(BuildXconnectPlan({"", "fwd-a", "0123456789abcdef"}).ok());
}

}  // namespace
}  // namespace nsmcert::kernel
