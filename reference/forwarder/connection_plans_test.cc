#include "reference/forwarder/connection_plans.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "reference/forwarder/tunnel.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

connection::Mechanism Mech(const std::string& type, std::map<std::string, std::string> params) {
  connection::Mechanism m;
  m.set_cls(type == "VXLAN" ? "REMOTE" : "LOCAL");
  m.set_type(type);
  for (auto& [k, v] : params) (*m.mutable_parameters())[k] = v;
  return m;
}

connectioncontext::ConnectionContext P2pContext(std::uint32_t mtu = 0) {
  connectioncontext::ConnectionContext c;
  auto* ip = c.mutable_ip_context();
  ip->add_src_ip_addrs("172.16.1.101/32");
  ip->add_dst_ip_addrs("172.16.1.100/32");
  ip->add_src_routes()->set_prefix("172.16.1.100/32");
  ip->add_dst_routes()->set_prefix("172.16.1.101/32");
  c.set_mtu(mtu);
  return c;
}

TunnelConfig Tunnel(const std::string& ip) {
  TunnelConfig t;
  t.ip = ip;
  t.port = 4789;
  t.device = "under";
  t.underlay_mtu = 1500;
  t.tunnel_mtu = 1446;
  return t;
}

PlanInputs KernelToKernel() {
  PlanInputs in;
  in.connection_id = "2b2a1f9c-0000-4000-8000-000000000001";
  in.incoming = Mech("KERNEL", {{"inodeURL", "inode://4/100"}, {"name", "nsm-1"}});
  in.outgoing = Mech("KERNEL", {{"inodeURL", "inode://4/200"}, {"name", "nse-1"}});
  in.context = P2pContext();
  in.forwarder_netns = "node-a";
  in.tunnel = Tunnel("192.0.2.1");
  return in;
}

TEST(DeviceNamesTest, AreStablePerConnectionDistinctAcrossConnectionsAndFitLinux) {
  ForwarderDeviceNames a = DeviceNamesFor("conn-a");
  EXPECT_EQ(a.incoming, DeviceNamesFor("conn-a").incoming);
  EXPECT_EQ(a.incoming.size(), 15u);
  EXPECT_EQ(a.outgoing.size(), 15u);
  EXPECT_TRUE(a.incoming.starts_with("fwi-"));
  EXPECT_TRUE(a.outgoing.starts_with("fwo-"));
  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) names.insert(DeviceNamesFor(std::to_string(i)).incoming);
  EXPECT_EQ(names.size(), 1000u);
}

TEST(ConnectionPlansTest, LocalKernelToKernelPutsEachSideOfTheContextIntoItsNamespace) {
  PlanInputs in = KernelToKernel();
  auto plans = BuildConnectionPlans(in);
  ASSERT_TRUE(plans.ok()) << plans.status();
  const ForwarderDeviceNames names = DeviceNamesFor(in.connection_id);
  ASSERT_TRUE(plans->incoming.interface.has_value());
  const kernel::InterfacePlan& client = *plans->incoming.interface;
  EXPECT_EQ(client.workload_netns, "inode://4/100");
  EXPECT_EQ(client.interface_name, "nsm-1");
  EXPECT_EQ(client.forwarder_interface_name, names.incoming);
  EXPECT_EQ(client.forwarder_netns, "node-a");
  EXPECT_THAT(client.addresses, ElementsAre("172.16.1.101/32"));
  ASSERT_EQ(client.routes.size(), 1u);
  EXPECT_EQ(client.routes[0].prefix, "172.16.1.100/32");
  ASSERT_TRUE(plans->outgoing.interface.has_value());
  const kernel::InterfacePlan& endpoint = *plans->outgoing.interface;
  EXPECT_EQ(endpoint.workload_netns, "inode://4/200");
  EXPECT_EQ(endpoint.interface_name, "nse-1");
  EXPECT_THAT(endpoint.addresses, ElementsAre("172.16.1.100/32"));
  EXPECT_EQ(plans->xconnect.a, names.incoming);
  EXPECT_EQ(plans->xconnect.b, names.outgoing);
  EXPECT_EQ(plans->xconnect.netns, "node-a");
  EXPECT_FALSE(plans->incoming.vxlan.has_value());
}

TEST(ConnectionPlansTest, TheClientNodeTunnelsFromItsSourceAddress) {
  PlanInputs in = KernelToKernel();
  in.outgoing = Mech("VXLAN", {{"src_ip", "192.0.2.1"},
                               {"dst_ip", "192.0.2.2"},
                               {"src_port", "4789"},
                               {"dst_port", "4789"},
                               {"vni", "10"},
                               {"MTU", "1400"}});
  in.context = P2pContext(1400);
  auto plans = BuildConnectionPlans(in);
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_TRUE(plans->outgoing.vxlan.has_value());
  const kernel::VxlanSpec& spec = plans->outgoing.vxlan->spec;
  EXPECT_EQ(spec.name, DeviceNamesFor(in.connection_id).outgoing);
  EXPECT_EQ(spec.vni, 10u);
  EXPECT_EQ(spec.local_ip, "192.0.2.1");
  EXPECT_EQ(spec.remote_ip, "192.0.2.2");
  EXPECT_EQ(spec.dst_port, 4789);
  EXPECT_EQ(spec.underlay_device, "under");
  EXPECT_EQ(spec.mtu, 1400u);
  EXPECT_EQ(plans->incoming.interface->mtu, 1400u);
}

TEST(ConnectionPlansTest, TheEndpointNodeTunnelsBackToTheSource) {
  PlanInputs in = KernelToKernel();
  in.tunnel = Tunnel("192.0.2.2");
  in.incoming =
      Mech("VXLAN",
           {{"src_ip", "192.0.2.1"}, {"dst_ip", "192.0.2.2"}, {"dst_port", "4789"}, {"vni", "10"}});
  auto plans = BuildConnectionPlans(in);
  ASSERT_TRUE(plans.ok()) << plans.status();
  ASSERT_TRUE(plans->incoming.vxlan.has_value());
  EXPECT_EQ(plans->incoming.vxlan->spec.local_ip, "192.0.2.2");
  EXPECT_EQ(plans->incoming.vxlan->spec.remote_ip, "192.0.2.1");
  EXPECT_EQ(plans->incoming.vxlan->spec.mtu, 1446u) << "this side's own tunnel MTU by default";
  EXPECT_THAT(plans->outgoing.interface->addresses, ElementsAre("172.16.1.100/32"));
}

struct BadCase {
  const char* label;
  std::function<void(PlanInputs&)> change;
  const char* names;
};

class ConnectionPlansBadInputTest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ConnectionPlansBadInputTest, IsInvalidArgumentNamingTheSideAndField) {
  PlanInputs in = KernelToKernel();
  GetParam().change(in);
  auto plans = BuildConnectionPlans(in);
  ASSERT_FALSE(plans.ok());
  EXPECT_EQ(plans.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plans.status().message(), HasSubstr(GetParam().names));
}

INSTANTIATE_TEST_SUITE_P(
    Inputs, ConnectionPlansBadInputTest,
    ::testing::Values(
        BadCase{"EndpointNameTooLong",
                [](PlanInputs& in) {
                  (*in.outgoing.mutable_parameters())["name"] = "sixteen-bytes-nm";
                },
                "outgoing side (KERNEL mechanism): KERNEL mechanism parameter name"},
        BadCase{"EndpointWithoutNamespace",
                [](PlanInputs& in) { in.outgoing.mutable_parameters()->erase("inodeURL"); },
                "parameter inodeURL: missing"},
        BadCase{"BadClientAddress",
                [](PlanInputs& in) {
                  in.context.mutable_ip_context()->set_src_ip_addrs(0, "172.16.1.300/32");
                },
                "src_ip_addrs[0]"},
        BadCase{"BadEndpointRoute",
                [](PlanInputs& in) {
                  in.context.mutable_ip_context()->mutable_dst_routes(0)->set_prefix("nope");
                },
                "dst_routes[0]"},
        BadCase{"VniOfTheWrongParity",
                [](PlanInputs& in) {
                  in.outgoing = Mech(
                      "VXLAN", {{"src_ip", "192.0.2.1"}, {"dst_ip", "192.0.2.2"}, {"vni", "11"}});
                },
                "vni: 11 must be even"},
        BadCase{"VniOutOfRange",
                [](PlanInputs& in) {
                  in.outgoing =
                      Mech("VXLAN",
                           {{"src_ip", "192.0.2.1"}, {"dst_ip", "192.0.2.2"}, {"vni", "99999999"}});
                },
                "parameter vni"},
        BadCase{"TunnelFromAnotherNode",
                [](PlanInputs& in) {
                  in.outgoing = Mech(
                      "VXLAN", {{"src_ip", "192.0.2.7"}, {"dst_ip", "192.0.2.2"}, {"vni", "10"}});
                },
                "is not this node's tunnel address"},
        BadCase{"UnsupportedType", [](PlanInputs& in) { in.outgoing = Mech("MEMIF", {}); },
                "unsupported mechanism type \"MEMIF\""}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.label; });

TEST(ConnectionPlansTest, SamePlansNoticesAChangedAddress) {
  PlanInputs in = KernelToKernel();
  auto a = BuildConnectionPlans(in);
  auto b = BuildConnectionPlans(in);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(SamePlans(*a, *b));
  in.context.mutable_ip_context()->set_src_ip_addrs(0, "172.16.1.103/32");
  auto c = BuildConnectionPlans(in);
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(SamePlans(*a, *c));
  EXPECT_FALSE(SamePlans(a->incoming, c->incoming));
  EXPECT_TRUE(SamePlans(a->incoming, b->incoming));
}

TEST(TunnelTest, FindsTheInterfaceHoldingTheTunnelAddress) {
  std::vector<kernel::AddressInfo> addresses = {
      {1, "lo", "127.0.0.1/8"}, {7, "under", "192.0.2.1/24"}, {8, "under6", "fd00::1/64"}};
  std::vector<kernel::LinkInfo> links(3);
  links[0].index = 1;
  links[0].name = "lo";
  links[0].mtu = 65536;
  links[1].index = 7;
  links[1].name = "under";
  links[1].mtu = 1500;
  links[2].index = 8;
  links[2].name = "under6";
  links[2].mtu = 9000;
  auto v4 = TunnelFromLinks("192.0.2.1", 4789, addresses, links);
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_EQ(v4->device, "under");
  EXPECT_EQ(v4->underlay_mtu, 1500u);
  EXPECT_EQ(v4->tunnel_mtu, 1446u);
  auto v6 = TunnelFromLinks("fd00::1", 4789, addresses, links);
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_EQ(v6->tunnel_mtu, 9000u - 74u);
  EXPECT_EQ(TunnelFromLinks("192.0.2.9", 4789, addresses, links).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(TunnelFromLinks("not-an-ip", 4789, addresses, links).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(TunnelFromLinks("192.0.2.1", 0, addresses, links).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nsmcert::forwarder
