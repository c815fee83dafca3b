// Heal (spec §11, §14 F.48, F.50, F.52, A.8): with a remote connection up (NSC on node-a, NSE on
// node-b), one role at a time is killed and started again: the NSE (its namespace deleted and
// re-created too), the forwarder of node-b, the nsmgr of node-b, the registry. Each time the
// connection comes back, carries pings (checked with captures), and no per-connection kernel
// state is left twice. How long healing took is written to the test log.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <vector>

#include "conformance/cases/domain.h"
#include "conformance/scenarios/scenario_support.h"

namespace nsmcert::conformance::scenarios {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;

constexpr absl::Duration kHealTimeout = absl::Seconds(30);
constexpr char kClientConnection[] = "nsc-a-0";

bool IsUp(const connection::Connection* conn) {
  return conn != nullptr && conn->state() == connection::UP;
}
bool IsBroken(const connection::Connection* conn) {
  return conn == nullptr || conn->state() != connection::UP;
}

class HealTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    context_ = MakeContext(::testing::UnitTest::GetInstance()->current_test_info()->name());
    ASSERT_NE(context_, nullptr);
    auto domain = Domain::Start(context_->context());
    ASSERT_TRUE(domain.ok()) << domain.status();
    domain_ = *std::move(domain);
    EndpointOptions nse;
    nse.workload = "nse-b";
    nse.cidr = "172.16.1.96/29";  // room for a second client
    ASSERT_TRUE(domain_->StartEndpoint(nse).ok());
    ASSERT_TRUE(domain_->WaitForEndpoint("nse-b", absl::Seconds(10)).ok());
    ClientOptions nsc;
    nsc.workload = "nsc-a";
    auto client = domain_->StartClient(nsc);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *client;
    auto conns = domain_->WaitForClientConnections(*client_, absl::Seconds(20));
    ASSERT_TRUE(conns.ok()) << conns.status();
    before_ = conns->front();
    ExpectDataPath("before");
    auto links = LinksByNamespace(*domain_);
    ASSERT_TRUE(links.ok()) << links.status();
    links_before_ = *std::move(links);
  }

  // Pings over the connection, checked on the client's interface and on node-a's underlay with the
  // VNI the nsmgr of node-b reports now.
  void ExpectDataPath(const std::string& label) {
    auto conns = domain_->WaitForClientConnections(*client_, kHealTimeout);
    ASSERT_TRUE(conns.ok()) << conns.status();
    const connection::Connection& conn = conns->front();
    EXPECT_THAT(SegmentNames(conn), ElementsAre("nsc-a", "nsmgr-node-a", "forwarder-node-a",
                                                "nsmgr-node-b", "forwarder-node-b", "nse-b"));
    const std::string src = ClientAddress(conn), dst = EndpointAddress(conn);
    auto ping = PingUntilReply(*domain_, "nsc-a", dst, kHealTimeout);
    ASSERT_TRUE(ping.ok()) << ping.status();
    absl::Status icmp =
        ExpectIcmpOnInterface(*domain_, "nsc-a", "nsm-1", src, dst, label + "-icmp");
    EXPECT_TRUE(icmp.ok()) << icmp;
    auto vni = RemoteVni(*domain_, "node-b", kClientConnection);
    ASSERT_TRUE(vni.ok()) << vni.status();
    absl::Status vxlan =
        ExpectVxlanIcmpOnUnderlay(*domain_, "node-a", "nsc-a", *vni, src, dst, label + "-underlay");
    EXPECT_TRUE(vxlan.ok()) << vxlan;
    auto addresses = domain_->InterfaceAddresses("nsc-a", "nsm-1");
    ASSERT_TRUE(addresses.ok()) << addresses.status();
    EXPECT_THAT(GlobalAddresses(*addresses), ElementsAre(src + "/32"));
  }

  // Per-connection links in the nodes and the client's namespace: as many as before the fault.
  void ExpectNoLeftovers() {
    auto links = LinksByNamespace(*domain_);
    ASSERT_TRUE(links.ok()) << links.status();
    for (const char* node : {"node-a", "node-b"}) {
      EXPECT_EQ(ConnectionLinks((*links)[node]), ConnectionLinks(links_before_[node])) << node;
    }
    EXPECT_EQ((*links)["nsc-a"], links_before_["nsc-a"]);
    EXPECT_EQ((*links)["nse-b"].size(), links_before_["nse-b"].size());
  }

  // The client's connection is seen broken (DOWN or gone) by the nsmgr of node-a.
  void ExpectBreakSeen() {
    auto broken = WaitForConnectionAt(*domain_, domain_->node("node-a")->nsmgr_url,
                                      kClientConnection, IsBroken, "DOWN", absl::Seconds(10));
    EXPECT_TRUE(broken.ok()) << broken.status();
  }

  void RecordHeal(const std::string& what, absl::Duration took) {
    std::cout << "heal after " << what << ": " << absl::FormatDuration(took) << std::endl;
    RecordProperty("heal_ms", std::to_string(absl::ToInt64Milliseconds(took)));
  }

  std::unique_ptr<StandaloneCaseContext> context_;
  std::unique_ptr<Domain> domain_;
  DomainClient* client_ = nullptr;
  connection::Connection before_;
  std::map<std::string, std::vector<std::string>> links_before_;
};

TEST_F(HealTest, EndpointKilledAndItsNamespaceRecreated) {
  RunningRole& nse = *domain_->endpoint("nse-b")->role;
  const absl::Time start = absl::Now();
  ASSERT_TRUE(nse.Kill().ok());
  ASSERT_TRUE(domain_->RecreateWorkloadNamespace("nse-b").ok());
  ExpectBreakSeen();
  ASSERT_TRUE(nse.Restart(absl::Seconds(10)).ok()) << nse.LogTail();
  auto up = WaitForConnectionAt(*domain_, nse.url(), kClientConnection, IsUp, "UP at the new NSE",
                                kHealTimeout);
  ASSERT_TRUE(up.ok()) << up.status() << "\n" << client_->LogTail();
  auto ping = PingUntilReply(*domain_, "nsc-a", EndpointAddress(*up), kHealTimeout);
  ASSERT_TRUE(ping.ok()) << ping.status();
  RecordHeal("NSE death and namespace re-creation", absl::Now() - start);
  ExpectDataPath("after");
  // The endpoint side lives in the new namespace now.
  auto links = domain_->Links("nse-b");
  ASSERT_TRUE(links.ok()) << links.status();
  EXPECT_EQ(links->size(), 2u) << ::testing::PrintToString(*links);
  ExpectNoLeftovers();
}

TEST_F(HealTest, RemoteForwarderKilledAndRestarted) {
  RunningRole& forwarder = *domain_->forwarder("node-b");
  const absl::Time start = absl::Now();
  ASSERT_TRUE(forwarder.Kill().ok());
  ExpectBreakSeen();
  ASSERT_TRUE(forwarder.Restart(absl::Seconds(10)).ok()) << forwarder.LogTail();
  // The restarted forwarder knows the connection only if the heal's request went through it.
  auto up = WaitForConnectionAt(*domain_, forwarder.url(), kClientConnection, IsUp,
                                "UP at the restarted forwarder", kHealTimeout);
  ASSERT_TRUE(up.ok()) << up.status() << "\n" << client_->LogTail();
  auto ping = PingUntilReply(*domain_, "nsc-a", EndpointAddress(*up), kHealTimeout);
  ASSERT_TRUE(ping.ok()) << ping.status();
  RecordHeal("remote forwarder restart", absl::Now() - start);
  ExpectDataPath("after");
  ExpectNoLeftovers();
}

TEST_F(HealTest, RemoteNsmgrKilledAndRestarted) {
  RunningRole& nsmgr = *domain_->nsmgr("node-b");
  const absl::Time start = absl::Now();
  ASSERT_TRUE(nsmgr.Kill().ok());
  ExpectBreakSeen();
  ASSERT_TRUE(nsmgr.Restart(absl::Seconds(10)).ok()) << nsmgr.LogTail();
  auto up = WaitForConnectionAt(*domain_, nsmgr.url(), kClientConnection, IsUp,
                                "UP at the restarted nsmgr", kHealTimeout);
  ASSERT_TRUE(up.ok()) << up.status() << "\n" << client_->LogTail();
  auto ping = PingUntilReply(*domain_, "nsc-a", EndpointAddress(*up), kHealTimeout);
  ASSERT_TRUE(ping.ok()) << ping.status();
  RecordHeal("remote nsmgr restart", absl::Now() - start);
  ExpectDataPath("after");
  ExpectNoLeftovers();
}

TEST_F(HealTest, RegistryKilledAndRestarted) {
  RunningRole& registry = domain_->registry();
  const absl::Time start = absl::Now();
  ASSERT_TRUE(registry.Kill().ok());
  // The data path does not depend on the registry.
  auto during = domain_->Ping("nsc-a", EndpointAddress(before_), 1);
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(*during, 1);
  ASSERT_TRUE(registry.Restart(absl::Seconds(10)).ok()) << registry.LogTail();
  // The restarted registry is empty: endpoint and forwarders register again by themselves.
  for (const char* name : {"nse-b", "forwarder-node-a", "forwarder-node-b"}) {
    absl::Status registered = domain_->WaitForEndpoint(name, kHealTimeout);
    ASSERT_TRUE(registered.ok()) << registered;
  }
  RecordHeal("registry restart (re-registration)", absl::Now() - start);
  auto conns = domain_->WaitForClientConnections(*client_, absl::Seconds(5));
  ASSERT_TRUE(conns.ok()) << conns.status();
  ExpectDataPath("after");
  // New clients are served again.
  ClientOptions another;
  another.workload = "nsc-a";
  another.name = "nsc-a2";
  another.network_services = {"kernel://icmp-responder/nsm-2"};
  another.close_after_request = true;
  auto served = domain_->RequestOnce(another);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_THAT(SegmentNames(served->front()), Contains("nse-b"));
  ExpectNoLeftovers();
}

}  // namespace
}  // namespace nsmcert::conformance::scenarios
