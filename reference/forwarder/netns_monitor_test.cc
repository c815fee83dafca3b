#include "reference/forwarder/netns_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/connection_plans.h"
#include "reference/forwarder/mechanism_translation.h"
#include "reference/forwarder/testing.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/metadata.h"

namespace nsmcert::forwarder {
namespace {

class NetNsMonitorTest : public ::testing::Test {
 protected:
  NetNsMonitorTest() {
    NetNsMonitorOptions options;
    options.interval = absl::Seconds(1);
    options.list_devices = [this]() -> absl::StatusOr<std::set<std::string>> {
      std::lock_guard lock(mu_);
      if (!listing_works_) return absl::InternalError("netlink: boom");
      return devices_;
    };
    monitor_ = std::make_shared<NetNsMonitor>(clock_, options);
    next_hop_ = std::make_shared<testing::Sink>();
    next_hop_->on_request = [this](networkservice::NetworkServiceRequest& r) {
      auto* m = r.mutable_connection()->mutable_mechanism();
      m->set_type(next_hop_type_);
      return absl::OkStatus();
    };
    begin_ = std::make_shared<sdk::Begin>();
    chain_ = testing::Chain({begin_, std::make_shared<sdk::ConnectionMetadata>(), monitor_,
                             std::make_shared<MechanismTranslation>(), next_hop_});
  }

  // Connections a test leaves open keep the chain alive through begin.
  ~NetNsMonitorTest() override { begin_->Abandon(); }

  absl::StatusOr<connection::Connection> Send(const std::string& id) {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id(id);
    sdk::Context ctx(clock_);
    return chain_->Request(ctx, request);
  }

  void SetDevices(std::set<std::string> devices) {
    std::lock_guard lock(mu_);
    devices_ = std::move(devices);
  }

  sdk::FakeClock clock_;
  std::mutex mu_;
  std::set<std::string> devices_;
  bool listing_works_ = true;
  std::string next_hop_type_ = "KERNEL";
  std::shared_ptr<sdk::Begin> begin_;
  std::shared_ptr<NetNsMonitor> monitor_;
  std::shared_ptr<testing::Sink> next_hop_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(NetNsMonitorTest, AConnectionWhoseEndpointDeviceVanishedIsClosed) {
  SetDevices({DeviceNamesFor("c1").outgoing, DeviceNamesFor("c2").outgoing});
  ASSERT_TRUE(Send("c1").ok());
  ASSERT_TRUE(Send("c2").ok());
  EXPECT_EQ(monitor_->watched(), 2u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(next_hop_->closes().empty());

  SetDevices({DeviceNamesFor("c2").outgoing});  // c1's endpoint namespace is gone
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(next_hop_->closes().empty()) << "one listing without the device is not enough";
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(next_hop_->closes().size(), 1u);
  EXPECT_EQ(next_hop_->closes()[0].first.id(), "c1");
  EXPECT_EQ(monitor_->watched(), 1u);
}

TEST_F(NetNsMonitorTest, ADeviceBackByTheNextListingIsNotADeath) {
  SetDevices({DeviceNamesFor("c1").outgoing});
  ASSERT_TRUE(Send("c1").ok());
  SetDevices({});
  clock_.Advance(absl::Seconds(1));
  SetDevices({DeviceNamesFor("c1").outgoing});
  clock_.Advance(absl::Seconds(1));
  SetDevices({});
  clock_.Advance(absl::Seconds(1));
  EXPECT_TRUE(next_hop_->closes().empty());
}

TEST_F(NetNsMonitorTest, RemoteNextHopsAndClosedConnectionsAreNotWatched) {
  next_hop_type_ = "VXLAN";
  ASSERT_TRUE(Send("remote").ok());
  EXPECT_EQ(monitor_->watched(), 0u);
  next_hop_type_ = "KERNEL";
  auto conn = Send("local");
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(monitor_->watched(), 1u);
  sdk::Context ctx(clock_);
  ASSERT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_EQ(monitor_->watched(), 0u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(next_hop_->closes().size(), 1u);
  EXPECT_EQ(clock_.PendingTimers(), 0) << "no polling without watches";
}

TEST_F(NetNsMonitorTest, AFailedListingClosesNothing) {
  ASSERT_TRUE(Send("c1").ok());
  {
    std::lock_guard lock(mu_);
    listing_works_ = false;
  }
  clock_.Advance(absl::Seconds(5));
  EXPECT_TRUE(next_hop_->closes().empty());
  EXPECT_EQ(monitor_->watched(), 1u);
}

}  // namespace
}  // namespace nsmcert::forwarder
