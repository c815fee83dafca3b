#include "reference/nsmgr/netsvc_monitor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/registry/memory.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::nsmgr {
namespace {

// Waits (real time, bounded) for a condition another thread makes true.
bool Eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// Counts endpoint lookups: one per network service version the watch delivered.
class CountFinds : public sdk::NseRegistryElement {
 public:
  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) override {
    ++finds;
    return next.Find(ctx, query, sink);
  }
  std::atomic<int> finds{0};
};

registry::NetworkService Service(const std::string& color) {
  registry::NetworkService ns;
  ns.set_name("icmp");
  auto* match = ns.add_matches();
  (*match->mutable_source_selector())["app"] = "client";
  (*match->add_routes()->mutable_destination_selector())["color"] = color;
  return ns;
}

class NetsvcMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nse_registry_ = *sdk::NseRegistryChain::Make({counter_, nse_store_});
    monitor_ = std::make_shared<NetsvcMonitor>(ns_store_, nse_registry_);
    chain_ = *sdk::NetworkServiceChain::Make({std::make_shared<sdk::Begin>(), monitor_, endpoint_});
    RegisterService(Service("red"));
    registry::NetworkServiceEndpoint nse;
    nse.set_name("nse-1");
    nse.add_network_service_names("icmp");
    (*(*nse.mutable_network_service_labels())["icmp"].mutable_labels())["color"] = "red";
    sdk::Context ctx(clock_);
    ASSERT_TRUE(nse_store_->Register(ctx, nse, sdk::NseRegistryNext()).ok());
  }
  void TearDown() override {
    // Established connections keep the chain alive; close them.
    if (conn_) (void)Close();
  }

  void RegisterService(registry::NetworkService ns) {
    sdk::Context ctx(clock_);
    ASSERT_TRUE(ns_store_->Register(ctx, ns, sdk::NsRegistryNext()).ok());
  }

  void Connect() {
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("conn-1");
    conn->set_network_service("icmp");
    conn->set_network_service_endpoint_name("nse-1");
    (*conn->mutable_labels())["app"] = "client";
    for (int i = 0; i < 2; ++i) {
      auto* segment = conn->mutable_path()->add_path_segments();
      segment->set_name(i == 0 ? "nsc" : "nsmgr");
      *segment->mutable_expires() =
          *sdk::tools::ToProtoTimestamp(clock_.Now() + absl::Minutes(10 - i));
    }
    sdk::Context ctx(clock_);
    auto result = chain_->Request(ctx, request);
    ASSERT_TRUE(result.ok()) << result.status();
    conn_ = *result;
  }
  absl::Status Close() {
    sdk::Context ctx(clock_);
    connection::Connection conn = *conn_;
    conn_.reset();
    return chain_->Close(ctx, conn);
  }
  bool WatchOpen() {
    return Eventually([&] { return ns_store_->watchers() == 1; });
  }

  sdk::FakeClock clock_;
  std::shared_ptr<sdk::reg::NsMemory> ns_store_ = std::make_shared<sdk::reg::NsMemory>();
  std::shared_ptr<sdk::reg::NseMemory> nse_store_ = std::make_shared<sdk::reg::NseMemory>();
  std::shared_ptr<CountFinds> counter_ = std::make_shared<CountFinds>();
  std::shared_ptr<sdk::NseRegistryChain> nse_registry_;
  std::shared_ptr<NetsvcMonitor> monitor_;
  std::shared_ptr<sdk::testing::Recorder> endpoint_ = std::make_shared<sdk::testing::Recorder>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::optional<connection::Connection> conn_;
};

TEST_F(NetsvcMonitorTest, ClosesWhenTheEndpointStopsMatching) {
  Connect();
  ASSERT_TRUE(WatchOpen());
  EXPECT_EQ(monitor_->watching(), 1u);
  // The initial version matches: nothing happens.
  ASSERT_TRUE(Eventually([&] { return counter_->finds >= 1; }));

  // A version that still matches (another route that fits too).
  auto still = Service("red");
  (*still.mutable_matches(0)->add_routes()->mutable_destination_selector())["color"] = "green";
  RegisterService(still);
  ASSERT_TRUE(Eventually([&] { return counter_->finds >= 2; }));
  EXPECT_EQ(endpoint_->close_count(), 0u);

  RegisterService(Service("blue"));
  ASSERT_TRUE(Eventually([&] { return endpoint_->close_count() == 1; }));
  EXPECT_EQ(endpoint_->closes()[0].id(), "conn-1");
  conn_.reset();  // closed by the monitor
  EXPECT_TRUE(Eventually([&] { return ns_store_->watchers() == 0; }));
  EXPECT_EQ(monitor_->watching(), 0u);
}

TEST_F(NetsvcMonitorTest, AnUnknownEndpointIsLeftAlone) {
  Connect();
  ASSERT_TRUE(WatchOpen());
  registry::NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  sdk::Context ctx(clock_);
  ASSERT_TRUE(nse_store_->Unregister(ctx, nse, sdk::NseRegistryNext()).ok());
  RegisterService(Service("blue"));
  ASSERT_TRUE(Eventually([&] { return counter_->finds >= 2; }));
  EXPECT_EQ(endpoint_->close_count(), 0u);
}

TEST_F(NetsvcMonitorTest, WatchEndsAtTheEarliestPathExpiry) {
  Connect();
  ASSERT_TRUE(WatchOpen());
  clock_.Advance(absl::Minutes(9));  // the nsmgr segment expires after 9 minutes
  ASSERT_TRUE(Eventually([&] { return ns_store_->watchers() == 0; }));
  RegisterService(Service("blue"));
  EXPECT_EQ(counter_->finds, 1);
  EXPECT_EQ(endpoint_->close_count(), 0u);
}

TEST_F(NetsvcMonitorTest, RefreshReplacesTheWatchAndCloseStopsIt) {
  Connect();
  ASSERT_TRUE(WatchOpen());
  Connect();  // refresh
  ASSERT_TRUE(WatchOpen());
  EXPECT_EQ(monitor_->watching(), 1u);
  ASSERT_TRUE(Close().ok());
  EXPECT_EQ(monitor_->watching(), 0u);
  EXPECT_TRUE(Eventually([&] { return ns_store_->watchers() == 0; }));
  EXPECT_EQ(endpoint_->close_count(), 1u);
}

}  // namespace
}  // namespace nsmcert::nsmgr
