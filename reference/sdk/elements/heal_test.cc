#include "reference/sdk/elements/heal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <thread>

#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/clienturl.h"
#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

// An in-memory monitor stream the test feeds.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<absl::StatusOr<connection::ConnectionEvent>> items;
  bool cancelled = false;
};

class FakeStream : public ConnectionEventStream {
 public:
  explicit FakeStream(std::shared_ptr<StreamState> state) : state_(std::move(state)) {}
  absl::StatusOr<connection::ConnectionEvent> Next() override {
    std::unique_lock lock(state_->mu);
    state_->cv.wait(lock, [&] { return state_->cancelled || !state_->items.empty(); });
    if (state_->cancelled) return absl::CancelledError("cancelled");
    auto item = std::move(state_->items.front());
    state_->items.pop_front();
    return item;
  }
  void Cancel() override {
    std::lock_guard lock(state_->mu);
    state_->cancelled = true;
    state_->cv.notify_all();
  }

 private:
  std::shared_ptr<StreamState> state_;
};

class HealTest : public ::testing::Test {
 protected:
  void Build(HealOptions options = {}) {
    heal_ = std::make_shared<Heal>(
        [this](const std::string&, const connection::MonitorScopeSelector& selector)
            -> absl::StatusOr<std::unique_ptr<ConnectionEventStream>> {
          std::lock_guard lock(mu_);
          selectors_.push_back(selector);
          streams_.push_back(std::make_shared<StreamState>());
          return std::make_unique<FakeStream>(streams_.back());
        },
        std::move(options));
    tail_->on_request = [this](Context& ctx, networkservice::NetworkServiceRequest& request) {
      factory_ = EventFactory::FromContext(ctx);
      if (fail_) return absl::UnavailableError("nsmgr down");
      request.mutable_connection()->mutable_mechanism()->set_type("KERNEL");
      request.mutable_connection()->set_network_service_endpoint_name("nse-1");
      return absl::OkStatus();
    };
    chain_ = MakeChain({std::make_shared<Begin>(Begin::Side::kClient),
                        std::make_shared<ClientUrlElement>("unix:///nsm.sock"), heal_, tail_});
  }
  void TearDown() override {
    Context ctx(clock_);
    connection::Connection conn;
    conn.set_id("nsc-0");
    (void)chain_->Close(ctx, conn);
  }

  absl::StatusOr<connection::Connection> Connect() {
    Context ctx(clock_);
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("nsc-0");
    auto* s = conn->mutable_path()->add_path_segments();
    s->set_name("nsc");
    s->set_id("nsc-0");
    return chain_->Request(ctx, request);
  }

  std::shared_ptr<StreamState> Stream(size_t i) {
    std::lock_guard lock(mu_);
    return i < streams_.size() ? streams_[i] : nullptr;
  }
  size_t StreamCount() {
    std::lock_guard lock(mu_);
    return streams_.size();
  }
  void Push(size_t i, absl::StatusOr<connection::ConnectionEvent> item) {
    auto s = Stream(i);
    std::lock_guard lock(s->mu);
    s->items.push_back(std::move(item));
    s->cv.notify_all();
  }
  connection::ConnectionEvent Down() {
    connection::ConnectionEvent event;
    event.set_type(connection::UPDATE);
    auto& c = (*event.mutable_connections())["mgr-1"];
    c.set_id("mgr-1");
    c.set_state(connection::DOWN);
    return event;
  }
  // Waits (real time) until the monitor thread has handed a heal attempt to the clock.
  bool WaitForPendingAttempt() {
    for (int i = 0; i < 500; ++i) {
      if (clock_.PendingTimers() > 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  FakeClock clock_;
  std::atomic<bool> fail_{false};
  std::weak_ptr<EventFactory> factory_;  // of the connection, as the elements after heal see it
  std::mutex mu_;
  std::vector<connection::MonitorScopeSelector> selectors_;
  std::vector<std::shared_ptr<StreamState>> streams_;
  std::shared_ptr<Heal> heal_;
  std::shared_ptr<Recorder> tail_ = std::make_shared<Recorder>();
  std::shared_ptr<NetworkServiceChain> chain_;
};

TEST_F(HealTest, WatchesTheNextHopsMonitorWithItsOwnSegment) {
  Build();
  ASSERT_TRUE(Connect().ok());
  EXPECT_EQ(heal_->watching(), 1u);
  std::lock_guard lock(mu_);
  ASSERT_EQ(selectors_.size(), 1u);
  EXPECT_EQ(selectors_[0].path_segments(0).name(), "nsc");
  EXPECT_EQ(selectors_[0].path_segments(0).id(), "nsc-0");
}

TEST_F(HealTest, ADownEventWithoutLivenessCheckReselects) {
  Build();
  ASSERT_TRUE(Connect().ok());
  Push(0, Down());
  ASSERT_TRUE(WaitForPendingAttempt());
  clock_.Advance(absl::ZeroDuration());
  ASSERT_EQ(tail_->close_count(), 1u);
  EXPECT_EQ(tail_->closes()[0].network_service_endpoint_name(), "nse-1");
  ASSERT_EQ(tail_->request_count(), 2u);
  auto again = tail_->requests()[1].connection();
  EXPECT_EQ(again.state(), connection::RESELECT_REQUESTED);
  EXPECT_FALSE(again.has_mechanism());
  EXPECT_TRUE(again.network_service_endpoint_name().empty());
  EXPECT_EQ(heal_->attempts(), 1);
  // Monitoring restarts on the healed connection.
  EXPECT_EQ(StreamCount(), 2u);
  EXPECT_EQ(heal_->watching(), 1u);
}

TEST_F(HealTest, AnInitialTransferWithoutTheConnectionIsABreak) {
  Build();
  ASSERT_TRUE(Connect().ok());
  connection::ConnectionEvent empty;
  empty.set_type(connection::INITIAL_STATE_TRANSFER);
  Push(0, empty);
  ASSERT_TRUE(WaitForPendingAttempt());
  clock_.Advance(absl::ZeroDuration());
  EXPECT_EQ(heal_->attempts(), 1);
}

TEST_F(HealTest, ABrokenStreamWithALiveDataPlaneIsAPlainReRequest) {
  Build({.liveness = [](const connection::Connection&) { return true; }});
  ASSERT_TRUE(Connect().ok());
  Push(0, absl::UnavailableError("nsmgr restarted"));
  ASSERT_TRUE(WaitForPendingAttempt());
  clock_.Advance(absl::ZeroDuration());
  EXPECT_EQ(tail_->close_count(), 0u);
  ASSERT_EQ(tail_->request_count(), 2u);
  auto again = tail_->requests()[1].connection();
  EXPECT_EQ(again.state(), connection::UP);
  EXPECT_EQ(again.network_service_endpoint_name(), "nse-1");
}

TEST_F(HealTest, ADeadDataPlaneReselects) {
  Build({.liveness = [](const connection::Connection&) { return false; }});
  ASSERT_TRUE(Connect().ok());
  Push(0, absl::UnavailableError("nsmgr died"));
  ASSERT_TRUE(WaitForPendingAttempt());
  clock_.Advance(absl::ZeroDuration());
  EXPECT_EQ(tail_->close_count(), 1u);
  EXPECT_EQ(tail_->requests()[1].connection().state(), connection::RESELECT_REQUESTED);
}

TEST_F(HealTest, FailedAttemptsAreRetriedUntilOneSucceeds) {
  Build({.liveness = [](const connection::Connection&) { return true; }});
  ASSERT_TRUE(Connect().ok());
  fail_ = true;
  Push(0, absl::UnavailableError("nsmgr died"));
  ASSERT_TRUE(WaitForPendingAttempt());
  clock_.Advance(absl::ZeroDuration());
  EXPECT_EQ(heal_->attempts(), 1);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(heal_->attempts(), 2);
  fail_ = false;
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(heal_->attempts(), 3);
  EXPECT_EQ(tail_->request_count(), 4u);
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(heal_->attempts(), 3);  // healed: no more attempts
}

TEST_F(HealTest, AFailedReselectIsRetriedUntilItWorks) {
  Build();  // no liveness probe: every break reselects
  ASSERT_TRUE(Connect().ok());
  fail_ = true;
  Push(0, Down());
  ASSERT_TRUE(WaitForPendingAttempt());
  clock_.Advance(absl::ZeroDuration());
  EXPECT_EQ(heal_->attempts(), 1);
  // The reselect's Close ended the watcher, but the retry is kept.
  EXPECT_EQ(heal_->watching(), 0u);
  EXPECT_EQ(heal_->pending(), 1u);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(heal_->attempts(), 2);
  fail_ = false;
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(heal_->attempts(), 3);
  EXPECT_EQ(heal_->pending(), 0u);
  EXPECT_EQ(heal_->watching(), 1u);
  auto requests = tail_->requests();
  ASSERT_EQ(requests.size(), 4u);
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].connection().state(), connection::RESELECT_REQUESTED) << i;
  }
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(heal_->attempts(), 3);
}

TEST_F(HealTest, AReselectAnotherElementFiredIsRetriedToo) {
  Build();
  ASSERT_TRUE(Connect().ok());
  auto factory = factory_.lock();
  ASSERT_NE(factory, nullptr);
  fail_ = true;
  EventOptions reselect;
  reselect.reselect = true;
  EXPECT_FALSE(factory->Request(reselect).ok());  // e.g. the data-path check's reselect
  EXPECT_EQ(heal_->pending(), 1u);
  fail_ = false;
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(heal_->pending(), 0u);
  EXPECT_EQ(heal_->watching(), 1u);
  ASSERT_EQ(tail_->request_count(), 3u);
  EXPECT_EQ(tail_->requests()[2].connection().state(), connection::RESELECT_REQUESTED);
}

TEST_F(HealTest, AFinalCloseDropsAPendingRetry) {
  Build();
  auto conn = Connect();
  ASSERT_TRUE(conn.ok());
  fail_ = true;
  EventOptions reselect;
  reselect.reselect = true;
  EXPECT_FALSE(factory_.lock()->Request(reselect).ok());
  ASSERT_EQ(heal_->pending(), 1u);
  Context ctx(clock_);
  ASSERT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_EQ(heal_->pending(), 0u);
  const size_t requests = tail_->request_count();
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(tail_->request_count(), requests);
  EXPECT_EQ(heal_->attempts(), 0);
}

TEST_F(HealTest, CloseStopsWatching) {
  Build();
  auto conn = Connect();
  ASSERT_TRUE(conn.ok());
  Context ctx(clock_);
  ASSERT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_EQ(heal_->watching(), 0u);
  EXPECT_TRUE(Stream(0)->cancelled);
  EXPECT_EQ(clock_.PendingTimers(), 0);
  EXPECT_EQ(heal_->attempts(), 0);
}

}  // namespace
}  // namespace nsmcert::sdk
