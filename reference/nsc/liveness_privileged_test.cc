// ICMP liveness across a real data path: a veth pair between a client and an endpoint namespace,
// addressed and routed as the forwarder does it (point-to-point /32 and /128 addresses with a
// route to the peer on the link).
#include <gtest/gtest.h>

#include "reference/kernel/netns.h"
#include "reference/kernel/testing.h"
#include "reference/nsc/liveness.h"

namespace nsmcert::nsc {
namespace {

using kernel::testing::TestNetNs;

class LivenessPrivilegedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto nsc = TestNetNs::Create("nsc-live");
    auto nse = TestNetNs::Create("nse-live");
    ASSERT_TRUE(nsc.ok()) << nsc.status();
    ASSERT_TRUE(nse.ok()) << nse.status();
    nsc_.emplace(*std::move(nsc));
    nse_.emplace(*std::move(nse));
    ASSERT_TRUE(nsc_->nl().CreateVeth("nsm-1", "nse-1", &nse_->ns()).ok());
    Side(*nsc_, "nsm-1", "172.16.1.101/32", "172.16.1.100/32", "fd00::1/128", "fd00::/128");
    Side(*nse_, "nse-1", "172.16.1.100/32", "172.16.1.101/32", "fd00::/128", "fd00::1/128");
    // A new veth link drops packets until the kernel has noticed its carrier (link watch runs up
    // to a second later); the checks below use short timeouts, so wait for the link first.
    LivenessOptions patient;
    patient.timeout = absl::Seconds(3);
    patient.packets = 15;
    auto up = kernel::RunInNetNs(nsc_->ns(), [&] { return CheckLiveness(Connection(), patient); });
    ASSERT_TRUE(up.ok() && *up) << "the data path never came up";
  }

  void Side(TestNetNs& ns, const std::string& link, const std::string& v4,
            const std::string& peer_v4, const std::string& v6, const std::string& peer_v6) {
    kernel::Netlink& nl = ns.nl();
    ASSERT_TRUE(nl.AddAddress(link, v4).ok());
    ASSERT_TRUE(nl.AddAddress(link, v6).ok());
    ASSERT_TRUE(nl.SetUp(link, true).ok());
    for (const std::string& prefix : {peer_v4, peer_v6}) {
      kernel::RouteSpec route;
      route.prefix = prefix;
      route.device = link;
      absl::Status added = nl.AddRoute(route);
      ASSERT_TRUE(added.ok()) << added;
    }
  }

  connection::Connection Connection() {
    connection::Connection conn;
    conn.mutable_mechanism()->set_type("KERNEL");
    auto* ip = conn.mutable_context()->mutable_ip_context();
    ip->add_src_ip_addrs("172.16.1.101/32");
    ip->add_src_ip_addrs("fd00::1/128");
    ip->add_dst_ip_addrs("172.16.1.100/32");
    ip->add_dst_ip_addrs("fd00::/128");
    return conn;
  }

  // Runs the check inside the client's namespace, as the NSC process does.
  bool Check(const connection::Connection& conn) {
    LivenessOptions options;
    options.timeout = absl::Milliseconds(400);
    auto alive = kernel::RunInNetNs(nsc_->ns(), [&] { return CheckLiveness(conn, options); });
    EXPECT_TRUE(alive.ok()) << alive.status();
    return alive.ok() && *alive;
  }

  std::optional<TestNetNs> nsc_;
  std::optional<TestNetNs> nse_;
};

TEST_F(LivenessPrivilegedTest, AWorkingDataPathIsAlive) {
  EXPECT_TRUE(Check(Connection()));
  LivenessOptions options;
  options.timeout = absl::Milliseconds(400);
  auto v6 = kernel::RunInNetNs(nsc_->ns(), [&] {
    return Ping({"fd00::1", "fd00::", true}, options);
  });
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_TRUE(*v6);
}

TEST_F(LivenessPrivilegedTest, AnEndpointSideThatWentDownIsDead) {
  ASSERT_TRUE(nse_->nl().SetUp("nse-1", false).ok());
  EXPECT_FALSE(Check(Connection()));
}

TEST_F(LivenessPrivilegedTest, OneDeadFamilyIsEnough) {
  kernel::RouteSpec route;
  route.prefix = "fd00::1/128";
  route.device = "nse-1";
  ASSERT_TRUE(nse_->nl().DeleteRoute(route).ok());
  EXPECT_FALSE(Check(Connection()));
}

TEST_F(LivenessPrivilegedTest, AMissingSourceAddressIsAnErrorAndDead) {
  LivenessOptions options;
  options.timeout = absl::Milliseconds(200);
  auto result = kernel::RunInNetNs(nsc_->ns(), [&] {
    return Ping({"172.16.1.99", "172.16.1.100", false}, options);
  });
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("172.16.1.99"), std::string::npos) << result.status();
  auto conn = Connection();
  conn.mutable_context()->mutable_ip_context()->set_src_ip_addrs(0, "172.16.1.99/32");
  EXPECT_FALSE(Check(conn));
}

}  // namespace
}  // namespace nsmcert::nsc
