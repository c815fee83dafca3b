#include "reference/forwarder/vxlan_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>

#include "reference/forwarder/testing.h"
#include "reference/sdk/elements/mechanisms.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::HasSubstr;

class VxlanServerTest : public ::testing::Test {
 protected:
  VxlanServerTest() {
    VxlanServerOptions options;
    options.tunnel_ip = "192.0.2.2";
    options.port = 4789;
    options.tunnel_mtu = 1446;
    options.random = [this] {
      std::uint32_t r = randoms_.empty() ? next_random_++ : randoms_.front();
      if (!randoms_.empty()) randoms_.pop_front();
      return r;
    };
    server_ = std::make_shared<VxlanServer>(options);
    sink_ = std::make_shared<testing::Sink>();
    chain_ = testing::Chain({std::make_shared<sdk::Mechanisms>(
                                 std::map<std::string, std::shared_ptr<sdk::NetworkServiceElement>>{
                                     {"VXLAN", server_}}),
                             sink_});
  }

  networkservice::NetworkServiceRequest Request(std::map<std::string, std::string> params,
                                                const std::string& id = "c1") {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id(id);
    auto* m = request.add_mechanism_preferences();
    m->set_cls("REMOTE");
    m->set_type("VXLAN");
    for (auto& [k, v] : params) (*m->mutable_parameters())[k] = v;
    return request;
  }

  absl::StatusOr<connection::Connection> Send(networkservice::NetworkServiceRequest request) {
    sdk::Context ctx;
    return chain_->Request(ctx, request);
  }

  std::deque<std::uint32_t> randoms_;
  std::uint32_t next_random_ = 77;
  std::shared_ptr<VxlanServer> server_;
  std::shared_ptr<testing::Sink> sink_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

std::string P(const connection::Connection& c, const std::string& key) {
  auto it = c.mechanism().parameters().find(key);
  return it == c.mechanism().parameters().end() ? "<absent>" : it->second;
}

TEST_F(VxlanServerTest, FillsThisNodesEndAndAnEvenVniForALowerPeerAddress) {
  randoms_ = {5};
  auto conn = Send(Request({{"src_ip", "192.0.2.1"}, {"src_port", "4789"}, {"MTU", "1446"}}));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(P(*conn, "dst_ip"), "192.0.2.2");
  EXPECT_EQ(P(*conn, "dst_port"), "4789");
  EXPECT_EQ(P(*conn, "vni"), "10");
  EXPECT_EQ(P(*conn, "MTU"), "1446");
  EXPECT_EQ(conn->context().mtu(), 1446u);
}

TEST_F(VxlanServerTest, AHigherPeerAddressGetsAnOddVni) {
  randoms_ = {5};
  auto conn = Send(Request({{"src_ip", "192.0.2.9"}}));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(P(*conn, "vni"), "11");
}

TEST_F(VxlanServerTest, MtuIsTheSmallerOfBothSidesAndBoundsTheContext) {
  auto request = Request({{"src_ip", "192.0.2.1"}, {"MTU", "1400"}});
  request.mutable_connection()->mutable_context()->set_mtu(9000);
  auto conn = Send(request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(P(*conn, "MTU"), "1400");
  EXPECT_EQ(conn->context().mtu(), 1400u);

  auto smaller = Request({{"src_ip", "192.0.2.1"}, {"MTU", "9000"}}, "c2");
  smaller.mutable_connection()->mutable_context()->set_mtu(1300);
  conn = Send(smaller);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(P(*conn, "MTU"), "1446");
  EXPECT_EQ(conn->context().mtu(), 1300u);
}

TEST_F(VxlanServerTest, ARefreshKeepsItsVni) {
  randoms_ = {5};
  auto first = Send(Request({{"src_ip", "192.0.2.1"}}));
  ASSERT_TRUE(first.ok());
  networkservice::NetworkServiceRequest refresh;
  *refresh.mutable_connection() = *first;
  randoms_ = {6};
  auto again = Send(refresh);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(P(*again, "vni"), "10");
  EXPECT_EQ(server_->vnis_in_use(), 1u);
}

TEST_F(VxlanServerTest, VnisAreUniquePerPeerAddress) {
  randoms_ = {5, 5, 6};
  ASSERT_TRUE(Send(Request({{"src_ip", "192.0.2.1"}}, "c1")).ok());
  auto second = Send(Request({{"src_ip", "192.0.2.1"}}, "c2"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(P(*second, "vni"), "12");
}

TEST_F(VxlanServerTest, CloseAndAFailedFirstRequestGiveTheVniBack) {
  sink_->on_request = [](networkservice::NetworkServiceRequest&) {
    return absl::UnavailableError("endpoint gone");
  };
  EXPECT_FALSE(Send(Request({{"src_ip", "192.0.2.1"}})).ok());
  EXPECT_EQ(server_->vnis_in_use(), 0u);

  sink_->on_request = nullptr;
  auto conn = Send(Request({{"src_ip", "192.0.2.1"}}));
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(server_->vnis_in_use(), 1u);
  sdk::Context ctx;
  EXPECT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_EQ(server_->vnis_in_use(), 0u);
}

struct BadCase {
  const char* label;
  std::map<std::string, std::string> params;
  const char* names;
};

class VxlanServerBadParamsTest : public VxlanServerTest,
                                 public ::testing::WithParamInterface<BadCase> {};

TEST_P(VxlanServerBadParamsTest, IsRefusedNamingTheParameter) {
  auto conn = Send(Request(GetParam().params));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr(GetParam().names));
  EXPECT_TRUE(sink_->requests().empty());
  EXPECT_EQ(server_->vnis_in_use(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Params, VxlanServerBadParamsTest,
    ::testing::Values(
        BadCase{"MissingSrcIp", {}, "VXLAN mechanism parameter src_ip: missing"},
        BadCase{"SrcIpNotAnAddress", {{"src_ip", "192.0.2"}}, "parameter src_ip"},
        BadCase{"SrcIpOtherFamily", {{"src_ip", "fd00::1"}}, "parameter src_ip"},
        BadCase{"VniOutOfRange", {{"src_ip", "192.0.2.1"}, {"vni", "16777216"}}, "parameter vni"},
        BadCase{"VniZero", {{"src_ip", "192.0.2.1"}, {"vni", "0"}}, "parameter vni"},
        BadCase{"VniOfTheWrongParity",
                {{"src_ip", "192.0.2.1"}, {"vni", "11"}},
                "vni: 11 must be even"},
        BadCase{"MtuTooSmall", {{"src_ip", "192.0.2.1"}, {"MTU", "40"}}, "parameter MTU"},
        BadCase{"PortZero", {{"src_ip", "192.0.2.1"}, {"src_port", "0"}}, "parameter src_port"}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.label; });

}  // namespace
}  // namespace nsmcert::forwarder
