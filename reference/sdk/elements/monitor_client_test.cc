#include "reference/sdk/elements/monitor_client.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <deque>

#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

constexpr absl::Duration kWait = absl::Seconds(5);

// An in-memory downstream monitor stream the test feeds.
class FakeStream : public ConnectionEventStream {
 public:
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<absl::StatusOr<connection::ConnectionEvent>> items;
    bool cancelled = false;
  };
  explicit FakeStream(std::shared_ptr<State> state) : state_(std::move(state)) {}
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
  std::shared_ptr<State> state_;
};

// The next hop's connection as its monitor reports it.
connection::Connection Downstream(connection::State state = connection::UP) {
  connection::Connection conn;
  conn.set_id("fwd-1");
  conn.set_state(state);
  conn.mutable_path()->set_index(2);
  for (auto [name, id] : std::vector<std::pair<std::string, std::string>>{
           {"nsc", "nsc-0"}, {"nsmgr", "mgr-1"}, {"fwd", "fwd-1"}}) {
    auto* s = conn.mutable_path()->add_path_segments();
    s->set_name(name);
    s->set_id(id);
  }
  return conn;
}

class MonitorClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    element_ = std::make_shared<MonitorClient>(
        monitor_,
        [this](const std::string& url, const connection::MonitorScopeSelector& selector)
            -> absl::StatusOr<std::unique_ptr<ConnectionEventStream>> {
          if (url == "tcp://unreachable:1") return absl::UnavailableError("no route");
          urls_.push_back(url);
          selectors_.push_back(selector);
          streams_.push_back(std::make_shared<FakeStream::State>());
          return std::make_unique<FakeStream>(streams_.back());
        });
    chain_ = MakeChain({element_, tail_});
    subscription_ = monitor_->Subscribe({});
    ASSERT_TRUE(subscription_->Next(kWait).has_value());  // initial transfer
  }

  // The nsmgr's client chain forwards its connection "mgr-1" (index 1) to the forwarder.
  absl::StatusOr<connection::Connection> Forward(const std::string& url = "unix:///fwd.sock") {
    Context ctx;
    ctx.values().Set(std::make_shared<ClientUrl>(ClientUrl{url}));
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("mgr-1");
    conn->mutable_path()->set_index(1);
    for (auto [name, id] :
         std::vector<std::pair<std::string, std::string>>{{"nsc", "nsc-0"}, {"nsmgr", "mgr-1"}}) {
      auto* s = conn->mutable_path()->add_path_segments();
      s->set_name(name);
      s->set_id(id);
    }
    return chain_->Request(ctx, request);
  }

  void Push(const std::shared_ptr<FakeStream::State>& stream,
            absl::StatusOr<connection::ConnectionEvent> item) {
    std::lock_guard lock(stream->mu);
    stream->items.push_back(std::move(item));
    stream->cv.notify_all();
  }
  connection::ConnectionEvent Event(connection::ConnectionEventType type,
                                    const connection::Connection& conn) {
    connection::ConnectionEvent event;
    event.set_type(type);
    (*event.mutable_connections())[conn.id()] = conn;
    return event;
  }

  std::shared_ptr<ConnectionMonitor> monitor_ = std::make_shared<ConnectionMonitor>();
  std::shared_ptr<Recorder> tail_ = std::make_shared<Recorder>();
  std::shared_ptr<MonitorClient> element_;
  std::shared_ptr<NetworkServiceChain> chain_;
  std::unique_ptr<MonitorSubscription> subscription_;
  std::vector<std::string> urls_;
  std::vector<connection::MonitorScopeSelector> selectors_;
  std::vector<std::shared_ptr<FakeStream::State>> streams_;
};

TEST_F(MonitorClientTest, FollowsTheNextHopWithItsOwnSegmentAsSelector) {
  ASSERT_TRUE(Forward().ok());
  ASSERT_EQ(urls_.size(), 1u);
  EXPECT_EQ(urls_[0], "unix:///fwd.sock");
  ASSERT_EQ(selectors_[0].path_segments_size(), 1);
  EXPECT_EQ(selectors_[0].path_segments(0).name(), "nsmgr");
  EXPECT_EQ(selectors_[0].path_segments(0).id(), "mgr-1");
  EXPECT_EQ(element_->following(), 1u);
  // A refresh to the same next hop keeps the stream.
  ASSERT_TRUE(Forward().ok());
  EXPECT_EQ(urls_.size(), 1u);
  // A different next hop replaces it.
  ASSERT_TRUE(Forward("unix:///fwd-2.sock").ok());
  EXPECT_EQ(urls_.size(), 2u);
  EXPECT_TRUE(streams_[0]->cancelled);
}

TEST_F(MonitorClientTest, ADeleteDownstreamIsPublishedAsDownInTheHopsView) {
  ASSERT_TRUE(Forward().ok());
  Push(streams_[0], Event(connection::INITIAL_STATE_TRANSFER, Downstream()));  // same state
  Push(streams_[0], Event(connection::DELETE, Downstream()));
  auto event = subscription_->Next(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type(), connection::UPDATE);
  ASSERT_TRUE(event->connections().contains("mgr-1"));
  const auto& mine = event->connections().at("mgr-1");
  EXPECT_EQ(mine.state(), connection::DOWN);
  EXPECT_EQ(mine.path().index(), 1u);
  EXPECT_EQ(mine.path().path_segments_size(), 3);  // the downstream path
  EXPECT_FALSE(subscription_->Next(absl::Milliseconds(20)).has_value());
}

TEST_F(MonitorClientTest, AnInitialTransferWithoutTheConnectionIsDown) {
  ASSERT_TRUE(Forward().ok());
  connection::ConnectionEvent empty;
  empty.set_type(connection::INITIAL_STATE_TRANSFER);
  Push(streams_[0], empty);
  auto event = subscription_->Next(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->connections().at("mgr-1").state(), connection::DOWN);
}

TEST_F(MonitorClientTest, ABrokenStreamIsPublishedAsDownOnce) {
  ASSERT_TRUE(Forward().ok());
  Push(streams_[0], absl::UnavailableError("forwarder died"));
  auto event = subscription_->Next(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->connections().at("mgr-1").state(), connection::DOWN);
  EXPECT_FALSE(subscription_->Next(absl::Milliseconds(20)).has_value());
}

TEST_F(MonitorClientTest, DownstreamUpdatesAreMappedAndUnchangedOnesSuppressed) {
  ASSERT_TRUE(Forward().ok());
  auto changed = Downstream();
  changed.mutable_context()->set_mtu(1446);
  Push(streams_[0], Event(connection::UPDATE, changed));
  Push(streams_[0], Event(connection::UPDATE, changed));  // nothing new
  auto event = subscription_->Next(kWait);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->connections().at("mgr-1").context().mtu(), 1446u);
  EXPECT_EQ(event->connections().at("mgr-1").state(), connection::UP);
  EXPECT_FALSE(subscription_->Next(absl::Milliseconds(20)).has_value());
}

TEST_F(MonitorClientTest, CloseStopsFollowingBeforeClosingDownstream) {
  auto conn = Forward();
  ASSERT_TRUE(conn.ok());
  bool cancelled_before_close = false;
  tail_->on_close = [&](Context&, connection::Connection&) {
    std::lock_guard lock(streams_[0]->mu);
    cancelled_before_close = streams_[0]->cancelled;
    return absl::OkStatus();
  };
  Context ctx;
  ASSERT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_TRUE(cancelled_before_close);
  EXPECT_EQ(element_->following(), 0u);
  EXPECT_FALSE(subscription_->Next(absl::Milliseconds(20)).has_value());  // no DOWN
}

TEST_F(MonitorClientTest, WhenTheNextHopCannotBeFollowedTheRequestIsUndone) {
  auto conn = Forward("tcp://unreachable:1");
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(tail_->close_count(), 1u);
  EXPECT_EQ(element_->following(), 0u);
}

TEST_F(MonitorClientTest, WithoutAClientUrlNothingIsFollowed) {
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("x");
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  EXPECT_EQ(element_->following(), 0u);
}

}  // namespace
}  // namespace nsmcert::sdk
