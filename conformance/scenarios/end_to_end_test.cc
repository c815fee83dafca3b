// End to end over the reference daemons (spec §14 B.11, B.13, B.14): the registry and two nodes,
// an NSE on node-b, a client beside it (local: 4 segments, KERNEL both sides) and a client on
// node-a (remote: 6 segments, VXLAN between the nodes). Both get their interface and addresses,
// ping the endpoint, and the packets are checked where they travel; closing leaves nothing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "conformance/cases/domain.h"
#include "conformance/harness/leak_audit.h"
#include "conformance/scenarios/scenario_support.h"

namespace nsmcert::conformance::scenarios {
namespace {

using ::testing::ElementsAre;

TEST(EndToEnd, LocalAndRemoteClientsReachTheEndpointAndCloseLeavesNothing) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  auto context = MakeContext("E2E-001");
  ASSERT_NE(context, nullptr);
  auto topology = TwoNodeWithLocalClient();
  ASSERT_TRUE(topology.ok()) << topology.status();
  DomainOptions options;
  options.topology = *topology;
  auto started = Domain::Start(context->context(), options);
  ASSERT_TRUE(started.ok()) << started.status();
  Domain& domain = **started;

  EndpointOptions nse;
  nse.workload = "nse-b";
  nse.cidr = "172.16.1.96/29";  // two clients: a pair of addresses each
  ASSERT_TRUE(domain.StartEndpoint(nse).ok());
  ASSERT_TRUE(domain.WaitForEndpoint("nse-b", absl::Seconds(10)).ok());
  ASSERT_TRUE(domain.WaitForEndpoint("forwarder-node-a", absl::Seconds(10)).ok());
  ASSERT_TRUE(domain.WaitForEndpoint("forwarder-node-b", absl::Seconds(10)).ok());
  // Everything a connection creates appears after this point.
  harness::AuditScope scope;
  scope.namespace_prefix = domain.topology().run_id().NamespacePrefix();
  auto audit = harness::LeakAudit::Begin(scope);
  ASSERT_TRUE(audit.ok()) << audit.status();

  ClientOptions local;
  local.workload = "nsc-b";
  ClientOptions remote;
  remote.workload = "nsc-a";
  auto local_client = domain.StartClient(local);
  ASSERT_TRUE(local_client.ok()) << local_client.status();
  auto remote_client = domain.StartClient(remote);
  ASSERT_TRUE(remote_client.ok()) << remote_client.status();
  auto local_conns = domain.WaitForClientConnections(**local_client, absl::Seconds(20));
  ASSERT_TRUE(local_conns.ok()) << local_conns.status();
  auto remote_conns = domain.WaitForClientConnections(**remote_client, absl::Seconds(20));
  ASSERT_TRUE(remote_conns.ok()) << remote_conns.status();
  const connection::Connection& lc = local_conns->front();
  const connection::Connection& rc = remote_conns->front();

  // Control plane: the paths and mechanisms.
  EXPECT_THAT(SegmentNames(lc), ElementsAre("nsc-b", "nsmgr-node-b", "forwarder-node-b", "nse-b"));
  EXPECT_THAT(SegmentNames(rc), ElementsAre("nsc-a", "nsmgr-node-a", "forwarder-node-a",
                                            "nsmgr-node-b", "forwarder-node-b", "nse-b"));
  EXPECT_EQ(lc.mechanism().type(), "KERNEL");
  EXPECT_EQ(rc.mechanism().type(), "KERNEL");
  auto vni = RemoteVni(domain, "node-b", "nsc-a-0");
  ASSERT_TRUE(vni.ok()) << vni.status();
  EXPECT_GT(*vni, 0u);
  EXPECT_LT(*vni, 1u << 24);

  // Kernel: each client's interface carries the client address of its connection.
  const std::string local_src = ClientAddress(lc), local_dst = EndpointAddress(lc);
  const std::string remote_src = ClientAddress(rc), remote_dst = EndpointAddress(rc);
  ASSERT_FALSE(local_src.empty() || local_dst.empty() || remote_src.empty() || remote_dst.empty());
  EXPECT_NE(local_src, remote_src);
  auto local_addresses = domain.InterfaceAddresses("nsc-b", "nsm-1");
  ASSERT_TRUE(local_addresses.ok()) << local_addresses.status();
  EXPECT_THAT(GlobalAddresses(*local_addresses), ElementsAre(local_src + "/32"));
  auto remote_addresses = domain.InterfaceAddresses("nsc-a", "nsm-1");
  ASSERT_TRUE(remote_addresses.ok()) << remote_addresses.status();
  EXPECT_THAT(GlobalAddresses(*remote_addresses), ElementsAre(remote_src + "/32"));

  // Data plane: ICMP on each client's interface; VXLAN with the VNI on both underlays.
  EXPECT_TRUE(
      ExpectIcmpOnInterface(domain, "nsc-b", "nsm-1", local_src, local_dst, "local-icmp").ok());
  absl::Status remote_icmp =
      ExpectIcmpOnInterface(domain, "nsc-a", "nsm-1", remote_src, remote_dst, "remote-icmp");
  EXPECT_TRUE(remote_icmp.ok()) << remote_icmp;
  absl::Status vxlan_a = ExpectVxlanIcmpOnUnderlay(domain, "node-a", "nsc-a", *vni, remote_src,
                                                   remote_dst, "underlay-node-a");
  EXPECT_TRUE(vxlan_a.ok()) << vxlan_a;
  absl::Status vxlan_b = ExpectVxlanIcmpOnUnderlay(domain, "node-b", "nsc-a", *vni, remote_src,
                                                   remote_dst, "underlay-node-b");
  EXPECT_TRUE(vxlan_b.ok()) << vxlan_b;

  // Close: the clients close on SIGTERM; then no hop holds a connection and the kernel holds
  // nothing the connections made.
  ASSERT_TRUE(domain.StopClient("nsc-b").ok());
  ASSERT_TRUE(domain.StopClient("nsc-a").ok());
  for (const char* node : {"node-a", "node-b"}) {
    absl::Status empty = domain.WaitForNoConnections(node, absl::Seconds(10));
    EXPECT_TRUE(empty.ok()) << empty;
    absl::Status forwarder =
        domain.WaitForNoConnectionsAt(domain.forwarder(node)->url(), absl::Seconds(10));
    EXPECT_TRUE(forwarder.ok()) << forwarder;
  }
  absl::Status nse_empty =
      domain.WaitForNoConnectionsAt(domain.endpoint("nse-b")->role->url(), absl::Seconds(10));
  EXPECT_TRUE(nse_empty.ok()) << nse_empty;
  auto report = audit->Check();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->links.empty() && report->routes.empty() && report->namespaces.empty())
      << report->ToString();
  auto registered = domain.RegisteredEndpoints();
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_THAT(*registered, ElementsAre("forwarder-node-a", "forwarder-node-b", "nse-b"));
}

}  // namespace
}  // namespace nsmcert::conformance::scenarios
