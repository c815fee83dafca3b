#include "reference/forwarder/client_mechanisms.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/testing.h"
#include "reference/sdk/elements/filtermechanisms.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::HasSubstr;

class ClientMechanismsTest : public ::testing::Test {
 protected:
  ClientMechanismsTest() {
    ClientMechanismsOptions options;
    options.tunnel_ip = "192.0.2.1";
    options.port = 4789;
    options.tunnel_mtu = 1446;
    sink_ = std::make_shared<testing::Sink>();
    chain_ = testing::Chain({std::make_shared<ClientMechanisms>(options),
                             std::make_shared<sdk::FilterMechanisms>(), sink_});
  }

  absl::StatusOr<connection::Connection> Send(const std::string& payload, const std::string& url,
                                              networkservice::NetworkServiceRequest request = {}) {
    request.mutable_connection()->set_id("c1");
    request.mutable_connection()->set_payload(payload);
    sdk::Context ctx;
    ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{url}));
    return chain_->Request(ctx, request);
  }

  const networkservice::NetworkServiceRequest& Sent() const {
    sent_ = sink_->requests().back().request;
    return sent_;
  }

  std::shared_ptr<testing::Sink> sink_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  mutable networkservice::NetworkServiceRequest sent_;
};

TEST_F(ClientMechanismsTest, ALocalNextHopIsOfferedKernelWithoutParameters) {
  ASSERT_TRUE(Send("ETHERNET", "unix:///run/nse.sock").ok());
  ASSERT_EQ(Sent().mechanism_preferences_size(), 1);
  const auto& kernel = Sent().mechanism_preferences(0);
  EXPECT_EQ(kernel.cls(), "LOCAL");
  EXPECT_EQ(kernel.type(), "KERNEL");
  EXPECT_TRUE(kernel.parameters().empty());
}

TEST_F(ClientMechanismsTest, ARemoteNextHopIsOfferedVxlanFromThisNodesTunnelEnd) {
  ASSERT_TRUE(Send("ETHERNET", "tcp://10.0.0.2:5001").ok());
  ASSERT_EQ(Sent().mechanism_preferences_size(), 1);
  const auto& vxlan = Sent().mechanism_preferences(0);
  EXPECT_EQ(vxlan.cls(), "REMOTE");
  EXPECT_EQ(vxlan.type(), "VXLAN");
  EXPECT_EQ(vxlan.parameters().at("src_ip"), "192.0.2.1");
  EXPECT_EQ(vxlan.parameters().at("src_port"), "4789");
  EXPECT_EQ(vxlan.parameters().at("MTU"), "1446");
  EXPECT_FALSE(vxlan.parameters().contains("vni"));
}

TEST_F(ClientMechanismsTest, AnIpPayloadHasNoRemoteMechanismHere) {
  ASSERT_TRUE(Send("IP", "unix:///run/nse.sock").ok());
  EXPECT_EQ(Sent().mechanism_preferences_size(), 1);
  auto conn = Send("IP", "tcp://10.0.0.2:5001");
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(conn.status().message(), HasSubstr("payload \"IP\""));
}

TEST_F(ClientMechanismsTest, ARefreshedVxlanMechanismKeepsItsVniAndGetsThisEndFilledIn) {
  networkservice::NetworkServiceRequest refresh;
  auto* m = refresh.mutable_connection()->mutable_mechanism();
  m->set_cls("REMOTE");
  m->set_type("VXLAN");
  (*m->mutable_parameters())["vni"] = "10";
  (*m->mutable_parameters())["MTU"] = "9000";
  ASSERT_TRUE(Send("ETHERNET", "tcp://10.0.0.2:5001", refresh).ok());
  const auto& sent = Sent().connection().mechanism();
  EXPECT_EQ(sent.parameters().at("vni"), "10");
  EXPECT_EQ(sent.parameters().at("src_ip"), "192.0.2.1");
  EXPECT_EQ(sent.parameters().at("MTU"), "1446");
}

}  // namespace
}  // namespace nsmcert::forwarder
