#include "reference/forwarder/mechanism_translation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/testing.h"
#include "reference/sdk/elements/metadata.h"

namespace nsmcert::forwarder {
namespace {

connection::Mechanism Mech(const std::string& cls, const std::string& type,
                           std::map<std::string, std::string> params = {}) {
  connection::Mechanism m;
  m.set_cls(cls);
  m.set_type(type);
  for (auto& [k, v] : params) (*m.mutable_parameters())[k] = v;
  return m;
}

class MechanismTranslationTest : public ::testing::Test {
 protected:
  MechanismTranslationTest() {
    sink_ = std::make_shared<testing::Sink>();
    // The next hop answers with its own mechanism.
    sink_->on_request = [](networkservice::NetworkServiceRequest& r) {
      *r.mutable_connection()->mutable_mechanism() =
          Mech("REMOTE", "VXLAN", {{"vni", "10"}, {"dst_ip", "192.0.2.2"}});
      return absl::OkStatus();
    };
    chain_ = testing::Chain({std::make_shared<sdk::ConnectionMetadata>(),
                             std::make_shared<MechanismTranslation>(), sink_});
  }

  networkservice::NetworkServiceRequest Incoming() {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("c1");
    *request.mutable_connection()->mutable_mechanism() =
        Mech("LOCAL", "KERNEL", {{"name", "nsm-1"}});
    *request.add_mechanism_preferences() = Mech("LOCAL", "KERNEL", {{"name", "nsm-1"}});
    return request;
  }

  std::shared_ptr<testing::Sink> sink_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(MechanismTranslationTest, EachSideSeesOnlyItsOwnMechanism) {
  sdk::Context ctx;
  auto request = Incoming();
  auto conn = chain_->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  // Toward the next hop: nothing of the caller's.
  const auto sent = sink_->requests().at(0).request;
  EXPECT_EQ(sent.mechanism_preferences_size(), 0);
  EXPECT_FALSE(sent.connection().has_mechanism());
  // Toward the caller: its own mechanism back.
  EXPECT_EQ(conn->mechanism().type(), "KERNEL");
  EXPECT_EQ(conn->mechanism().parameters().at("name"), "nsm-1");
}

TEST_F(MechanismTranslationTest, ARefreshAndTheCloseCarryTheNextHopsMechanism) {
  sdk::Context ctx;
  auto request = Incoming();
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  auto refresh = Incoming();
  sdk::Context ctx2;
  ASSERT_TRUE(chain_->Request(ctx2, refresh).ok());
  const auto sent = sink_->requests().at(1).request;
  EXPECT_EQ(sent.connection().mechanism().type(), "VXLAN");
  EXPECT_EQ(sent.connection().mechanism().parameters().at("vni"), "10");

  connection::Connection conn = refresh.connection();
  sdk::Context ctx3;
  ASSERT_TRUE(chain_->Close(ctx3, conn).ok());
  ASSERT_EQ(sink_->closes().size(), 1u);
  EXPECT_EQ(sink_->closes()[0].first.mechanism().type(), "VXLAN");
}

TEST_F(MechanismTranslationTest, WithoutConnectionMetadataTheChainIsMisassembled) {
  auto chain = testing::Chain({std::make_shared<MechanismTranslation>(), sink_});
  sdk::Context ctx;
  auto request = Incoming();
  EXPECT_EQ(chain->Request(ctx, request).status().code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace nsmcert::forwarder
