#include "reference/forwarder/dataplane.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/mechanism_translation.h"
#include "reference/forwarder/testing.h"
#include "reference/sdk/elements/metadata.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::HasSubstr;

// Records what the element asks of the kernel; each step can be made to fail.
class FakeApplier : public DataplaneApplier {
 public:
  absl::Status Apply(const ConnectionPlans& plans) override {
    applied.push_back(plans);
    return apply_error;
  }
  absl::Status Update(const ConnectionPlans& current, const ConnectionPlans& desired,
                      ConnectionPlans* held) override {
    updates.push_back({current, desired});
    *held = update_error.ok() ? desired : current;
    return update_error;
  }
  absl::Status Remove(const ConnectionPlans& plans) override {
    removed.push_back(plans);
    return remove_error;
  }

  std::vector<ConnectionPlans> applied;
  std::vector<std::pair<ConnectionPlans, ConnectionPlans>> updates;
  std::vector<ConnectionPlans> removed;
  absl::Status apply_error;
  absl::Status update_error;
  absl::Status remove_error;
};

class DataplaneTest : public ::testing::Test {
 protected:
  DataplaneTest() {
    applier_ = std::make_shared<FakeApplier>();
    DataplaneOptions options;
    options.forwarder_netns = "node-a";
    options.tunnel.ip = "192.0.2.1";
    options.tunnel.device = "under";
    options.tunnel.underlay_mtu = 1500;
    options.tunnel.tunnel_mtu = 1446;
    dataplane_ = std::make_shared<Dataplane>(applier_, options);
    endpoint_ = std::make_shared<testing::Sink>();
    // The next hop: a local endpoint answering with its namespace, interface and addresses.
    endpoint_->on_request = [this](networkservice::NetworkServiceRequest& r) {
      auto* m = r.mutable_connection()->mutable_mechanism();
      m->set_cls("LOCAL");
      m->set_type("KERNEL");
      (*m->mutable_parameters())["inodeURL"] = "inode://4/200";
      (*m->mutable_parameters())["name"] = endpoint_interface_;
      auto* ip = r.mutable_connection()->mutable_context()->mutable_ip_context();
      ip->clear_src_ip_addrs();
      ip->clear_dst_ip_addrs();
      ip->add_src_ip_addrs(client_address_);
      ip->add_dst_ip_addrs("172.16.1.100/32");
      return absl::OkStatus();
    };
    chain_ = testing::Chain({std::make_shared<sdk::ConnectionMetadata>(), dataplane_,
                             std::make_shared<MechanismTranslation>(), endpoint_});
  }

  networkservice::NetworkServiceRequest Incoming() {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("conn-1");
    auto* m = request.mutable_connection()->mutable_mechanism();
    m->set_cls("LOCAL");
    m->set_type("KERNEL");
    (*m->mutable_parameters())["inodeURL"] = "inode://4/100";
    (*m->mutable_parameters())["name"] = "nsm-1";
    return request;
  }

  absl::StatusOr<connection::Connection> Send() {
    sdk::Context ctx;
    auto request = Incoming();
    return chain_->Request(ctx, request);
  }

  std::string endpoint_interface_ = "nse-1";
  std::string client_address_ = "172.16.1.101/32";
  std::shared_ptr<FakeApplier> applier_;
  std::shared_ptr<Dataplane> dataplane_;
  std::shared_ptr<testing::Sink> endpoint_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(DataplaneTest, AFirstRequestAppliesPlansForBothSidesAfterTheNextHopAnswered) {
  auto conn = Send();
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_EQ(applier_->applied.size(), 1u);
  const ConnectionPlans& plans = applier_->applied[0];
  EXPECT_EQ(plans.incoming.interface->workload_netns, "inode://4/100");
  EXPECT_EQ(plans.incoming.interface->interface_name, "nsm-1");
  EXPECT_EQ(plans.outgoing.interface->workload_netns, "inode://4/200");
  EXPECT_EQ(plans.outgoing.interface->interface_name, "nse-1");
  EXPECT_EQ(plans.xconnect.netns, "node-a");
  EXPECT_TRUE(dataplane_->Held("conn-1").has_value());
  EXPECT_EQ(conn->mechanism().parameters().at("name"), "nsm-1") << "the caller's view";
}

TEST_F(DataplaneTest, AKernelRefusalClosesTheNextHopAndLeavesNoState) {
  applier_->apply_error = absl::AlreadyExistsError("link nsm-1: File exists");
  auto conn = Send();
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(endpoint_->closes().size(), 1u);
  EXPECT_EQ(dataplane_->size(), 0u);
}

TEST_F(DataplaneTest, BadParametersFromTheNextHopAreRefusedBeforeTheKernelIsTouched) {
  endpoint_interface_ = "much-too-long-name";
  auto conn = Send();
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr("outgoing side"));
  EXPECT_THAT(conn.status().message(), HasSubstr("parameter name"));
  EXPECT_TRUE(applier_->applied.empty());
  EXPECT_EQ(endpoint_->closes().size(), 1u);
}

TEST_F(DataplaneTest, ARefreshMovesTheKernelFromTheHeldPlansToTheNewOnes) {
  ASSERT_TRUE(Send().ok());
  client_address_ = "172.16.1.103/32";
  ASSERT_TRUE(Send().ok());
  EXPECT_EQ(applier_->applied.size(), 1u);
  ASSERT_EQ(applier_->updates.size(), 1u);
  EXPECT_EQ(applier_->updates[0].first.incoming.interface->addresses[0], "172.16.1.101/32");
  EXPECT_EQ(applier_->updates[0].second.incoming.interface->addresses[0], "172.16.1.103/32");
  EXPECT_EQ(dataplane_->Held("conn-1")->incoming.interface->addresses[0], "172.16.1.103/32");
}

TEST_F(DataplaneTest, AFailedRefreshKeepsTheConnection) {
  ASSERT_TRUE(Send().ok());
  applier_->update_error = absl::InternalError("netlink: boom");
  EXPECT_FALSE(Send().ok());
  EXPECT_TRUE(endpoint_->closes().empty());
  EXPECT_TRUE(dataplane_->Held("conn-1").has_value());
  endpoint_interface_ = "much-too-long-name";
  EXPECT_FALSE(Send().ok());
  EXPECT_TRUE(endpoint_->closes().empty()) << "a refresh that cannot be built is not undone";
}

TEST_F(DataplaneTest, CloseTakesOutWhatWasAppliedAndClosesTheNextHopEvenWhenThatFails) {
  auto conn = Send();
  ASSERT_TRUE(conn.ok());
  applier_->remove_error = absl::InternalError("netlink: boom");
  sdk::Context ctx;
  absl::Status closed = chain_->Close(ctx, *conn);
  EXPECT_EQ(closed.code(), absl::StatusCode::kInternal);
  ASSERT_EQ(applier_->removed.size(), 1u);
  EXPECT_TRUE(SamePlans(applier_->removed[0], applier_->applied[0]));
  EXPECT_EQ(endpoint_->closes().size(), 1u);
  EXPECT_EQ(dataplane_->size(), 0u);
}

TEST_F(DataplaneTest, CloseOfAnUnknownConnectionOnlyClosesDownstream) {
  connection::Connection conn = Incoming().connection();
  sdk::Context ctx;
  EXPECT_TRUE(chain_->Close(ctx, conn).ok());
  EXPECT_TRUE(applier_->removed.empty());
  EXPECT_EQ(endpoint_->closes().size(), 1u);
}

}  // namespace
}  // namespace nsmcert::forwarder
