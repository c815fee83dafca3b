#include "reference/nsc/datapath_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#include "reference/sdk/elements/begin.h"

namespace nsmcert::nsc {
namespace {

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

class Tail : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    requests.push_back(request);
    request.mutable_connection()->set_network_service_endpoint_name("nse-1");
    request.mutable_connection()->mutable_mechanism()->set_type("KERNEL");
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    ++closes;
    return next.Close(ctx, conn);
  }
  size_t request_count() {
    std::lock_guard lock(mu);
    return requests.size();
  }
  std::mutex mu;
  std::vector<networkservice::NetworkServiceRequest> requests;
  int closes = 0;
};

class DataPathMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DataPathMonitorOptions options;
    options.liveness = [this](const connection::Connection& conn) {
      ++checks_;
      EXPECT_EQ(conn.network_service_endpoint_name(), "nse-1");
      return alive_.load();
    };
    options.interval = absl::Milliseconds(200);
    monitor_ = std::make_shared<DataPathMonitor>(options);
    chain_ = *sdk::NetworkServiceChain::Make(
        {std::make_shared<sdk::Begin>(sdk::Begin::Side::kClient), monitor_, tail_});
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    sdk::Context ctx(clock_);
    ASSERT_TRUE(chain_->Request(ctx, request).ok());
  }
  void TearDown() override {
    sdk::Context ctx(clock_);
    connection::Connection conn;
    conn.set_id("nsc-0");
    (void)chain_->Close(ctx, conn);
  }
  // Lets one check run: waits until the checker waits on the clock, then moves the clock on.
  void Tick() {
    ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() > 0; }));
    const int before = checks_;
    clock_.Advance(absl::Milliseconds(200));
    ASSERT_TRUE(WaitFor([&] { return checks_ > before; }));
  }

  sdk::FakeClock clock_;
  std::atomic<bool> alive_{true};
  std::atomic<int> checks_{0};
  std::shared_ptr<DataPathMonitor> monitor_;
  std::shared_ptr<Tail> tail_ = std::make_shared<Tail>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(DataPathMonitorTest, ChecksEveryIntervalWhileAlive) {
  EXPECT_EQ(monitor_->checking(), 1u);
  for (int i = 0; i < 3; ++i) Tick();
  EXPECT_EQ(checks_, 3);
  EXPECT_EQ(tail_->request_count(), 1u);
  EXPECT_EQ(tail_->closes, 0);
}

TEST_F(DataPathMonitorTest, ADeadDataPathReselects) {
  Tick();
  alive_ = false;
  Tick();
  EXPECT_EQ(monitor_->failures(), 1);
  // The reselect is due at once on the clock.
  ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() > 0; }));
  clock_.Advance(absl::ZeroDuration());
  ASSERT_EQ(tail_->request_count(), 2u);
  EXPECT_EQ(tail_->closes, 1);
  const auto& again = tail_->requests[1].connection();
  EXPECT_EQ(again.state(), connection::RESELECT_REQUESTED);
  EXPECT_FALSE(again.has_mechanism());
  EXPECT_TRUE(again.network_service_endpoint_name().empty());
  // The new path is checked from now on.
  EXPECT_EQ(monitor_->checking(), 1u);
  alive_ = true;
  Tick();
  EXPECT_EQ(tail_->request_count(), 2u);
}

TEST_F(DataPathMonitorTest, CloseStopsChecking) {
  TearDown();
  EXPECT_EQ(monitor_->checking(), 0u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(checks_, 0);
}

}  // namespace
}  // namespace nsmcert::nsc
