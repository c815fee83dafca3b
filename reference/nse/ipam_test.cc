#include "reference/nse/ipam.h"

#include <gtest/gtest.h>

#include "absl/status/status.h"

namespace nsmcert::nse {
namespace {

// Passes the request on and can be told to fail, standing in for the rest of the endpoint.
class Tail : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    if (fail) return absl::UnavailableError("downstream failed");
    return next.Request(ctx, request);
  }
  bool fail = false;
};

class IpamServerTest : public ::testing::Test {
 protected:
  void Make(std::string_view prefix,
            sdk::tools::IpamPolicy policy = sdk::tools::IpamPolicy::kPolite) {
    auto ipam = IpamServer::Create(prefix, policy);
    ASSERT_TRUE(ipam.ok()) << ipam.status();
    tail_ = std::make_shared<Tail>();
    chain_ = *sdk::NetworkServiceChain::Make({*ipam, tail_});
  }
  absl::StatusOr<connection::Connection> Request(const std::string& id,
                                                 connectioncontext::IPContext ip = {}) {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id(id);
    *request.mutable_connection()->mutable_context()->mutable_ip_context() = ip;
    sdk::Context ctx;
    return chain_->Request(ctx, request);
  }
  absl::Status Close(const std::string& id) {
    connection::Connection conn;
    conn.set_id(id);
    sdk::Context ctx;
    return chain_->Close(ctx, conn);
  }

  std::shared_ptr<Tail> tail_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(IpamServerTest, LowerAddressToTheEndpointUpperToTheClientWithRoutesBothWays) {
  Make("172.16.1.100/31");
  auto conn = Request("c1");
  ASSERT_TRUE(conn.ok()) << conn.status();
  const auto& ip = conn->context().ip_context();
  ASSERT_EQ(ip.dst_ip_addrs_size(), 1);
  ASSERT_EQ(ip.src_ip_addrs_size(), 1);
  EXPECT_EQ(ip.dst_ip_addrs(0), "172.16.1.100/32");
  EXPECT_EQ(ip.src_ip_addrs(0), "172.16.1.101/32");
  ASSERT_EQ(ip.src_routes_size(), 1);
  ASSERT_EQ(ip.dst_routes_size(), 1);
  EXPECT_EQ(ip.src_routes(0).prefix(), "172.16.1.100/32");
  EXPECT_EQ(ip.dst_routes(0).prefix(), "172.16.1.101/32");
}

TEST_F(IpamServerTest, KeepsAddressesOnRefreshAndExhaustsThePool) {
  Make("172.16.1.100/31");
  auto first = Request("c1");
  ASSERT_TRUE(first.ok()) << first.status();
  auto refresh = Request("c1", first->context().ip_context());
  ASSERT_TRUE(refresh.ok()) << refresh.status();
  EXPECT_EQ(refresh->context().ip_context().src_ip_addrs(0), "172.16.1.101/32");
  auto second = Request("c2");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(second.status().message().find("c2"), std::string::npos) << second.status();
  ASSERT_TRUE(Close("c1").ok());
  auto third = Request("c3");
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->context().ip_context().dst_ip_addrs(0), "172.16.1.100/32");
}

TEST_F(IpamServerTest, HonoursExcludedPrefixes) {
  Make("172.16.1.200/30");
  connectioncontext::IPContext ip;
  ip.add_excluded_prefixes("172.16.1.201/32");
  ip.add_excluded_prefixes("172.16.1.202/32");
  auto conn = Request("c1", ip);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->context().ip_context().dst_ip_addrs(0), "172.16.1.200/32");
  EXPECT_EQ(conn->context().ip_context().src_ip_addrs(0), "172.16.1.203/32");
}

TEST_F(IpamServerTest, DualStackGivesAPairPerGroup) {
  Make("[10.0.0.0/30],[fd00::/126]");
  auto conn = Request("c1");
  ASSERT_TRUE(conn.ok()) << conn.status();
  const auto& ip = conn->context().ip_context();
  ASSERT_EQ(ip.dst_ip_addrs_size(), 2);
  EXPECT_EQ(ip.dst_ip_addrs(0), "10.0.0.0/32");
  EXPECT_EQ(ip.dst_ip_addrs(1), "fd00::/128");
  EXPECT_EQ(ip.src_ip_addrs(1), "fd00::1/128");
}

TEST_F(IpamServerTest, ReturnsNewAddressesWhenDownstreamFails) {
  Make("172.16.1.100/31");
  tail_->fail = true;
  ASSERT_FALSE(Request("c1").ok());
  tail_->fail = false;
  auto conn = Request("c2");
  ASSERT_TRUE(conn.ok()) << "the failed request gave its addresses back: " << conn.status();
}

TEST_F(IpamServerTest, RefreshKeepsAddressesWhenDownstreamFails) {
  Make("172.16.1.100/31");
  auto first = Request("c1");
  ASSERT_TRUE(first.ok()) << first.status();
  tail_->fail = true;
  ASSERT_FALSE(Request("c1", first->context().ip_context()).ok());
  tail_->fail = false;
  EXPECT_FALSE(Request("c2").ok()) << "c1 still holds the only pair";
}

TEST_F(IpamServerTest, StrictPolicyDropsForeignAddresses) {
  Make("172.16.1.100/31", sdk::tools::IpamPolicy::kStrict);
  connectioncontext::IPContext ip;
  ip.add_src_ip_addrs("10.9.9.9/32");
  auto conn = Request("c1", ip);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_EQ(conn->context().ip_context().src_ip_addrs_size(), 1);
  EXPECT_EQ(conn->context().ip_context().src_ip_addrs(0), "172.16.1.101/32");
}

TEST(IpamServer, RefusesABadPrefix) {
  auto ipam = IpamServer::Create("172.16.1.300/31");
  ASSERT_FALSE(ipam.ok());
  EXPECT_EQ(ipam.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ipam.status().message().find("172.16.1.300/31"), std::string::npos) << ipam.status();
}

}  // namespace
}  // namespace nsmcert::nse
