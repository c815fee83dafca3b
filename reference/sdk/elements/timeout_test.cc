#include "reference/sdk/elements/timeout.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

// A request as it arrives at hop 1: the caller's segment 0 carries its token expiry.
networkservice::NetworkServiceRequest RequestExpiringAt(absl::Time expires) {
  networkservice::NetworkServiceRequest request;
  auto* conn = request.mutable_connection();
  conn->set_id("conn-1");
  auto* path = conn->mutable_path();
  path->set_index(1);
  auto* caller = path->add_path_segments();
  caller->set_name("nsc");
  caller->set_id("conn-0");
  *caller->mutable_expires() = *tools::ToProtoTimestamp(expires);
  auto* own = path->add_path_segments();
  own->set_name("nsmgr");
  own->set_id("conn-1");
  return request;
}

class TimeoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    begin_ = std::make_shared<Begin>();
    timeout_ = std::make_shared<Timeout>();
    tail_ = std::make_shared<Recorder>();
    chain_ = MakeChain({begin_, timeout_, tail_});
  }
  void TearDown() override {
    connection::Connection conn;
    conn.set_id("conn-1");
    Context ctx(clock_);
    (void)chain_->Close(ctx, conn);
  }

  FakeClock clock_;
  std::shared_ptr<Begin> begin_;
  std::shared_ptr<Timeout> timeout_;
  std::shared_ptr<Recorder> tail_;
  std::shared_ptr<NetworkServiceChain> chain_;
};

TEST_F(TimeoutTest, ClosesTheConnectionWhenThePreviousTokenExpires) {
  Context ctx(clock_);
  auto request = RequestExpiringAt(clock_.Now() + absl::Minutes(10));
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  EXPECT_EQ(timeout_->armed(), 1u);

  clock_.Advance(absl::Minutes(10) - absl::Seconds(1));
  EXPECT_EQ(tail_->close_count(), 0u);
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(tail_->close_count(), 1u);
  EXPECT_EQ(tail_->closes()[0].id(), "conn-1");
  EXPECT_EQ(timeout_->armed(), 0u);
  EXPECT_EQ(begin_->size(), 0u);
}

TEST_F(TimeoutTest, LeavesTheCallerTheTimeItsRequestHad) {
  Context ctx(clock_);
  ctx.set_deadline(clock_.Now() + absl::Seconds(15));
  auto request = RequestExpiringAt(clock_.Now() + absl::Minutes(10));
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  clock_.Advance(absl::Minutes(10) - absl::Seconds(15) - absl::Milliseconds(1));
  EXPECT_EQ(tail_->close_count(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(TimeoutTest, TheCloseItStartsGetsItsOwnBudgetNotTheRequests) {
  std::vector<absl::Duration> budgets;
  tail_->on_close = [&](Context& ctx, connection::Connection&) {
    budgets.push_back(ctx.Remaining());
    return absl::OkStatus();
  };
  Context ctx(clock_);
  ctx.set_deadline(clock_.Now() + absl::Seconds(1));  // a client with a 1 s request timeout
  auto request = RequestExpiringAt(clock_.Now() + absl::Minutes(10));
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  clock_.Advance(absl::Minutes(10));
  ASSERT_EQ(budgets.size(), 1u);
  EXPECT_EQ(budgets[0], TimeoutOptions().close_budget);
}

TEST(Timeout, TheCloseBudgetIsConfigurableAndALongerRequestBudgetWins) {
  FakeClock clock;
  for (absl::Duration request_budget : {absl::Seconds(1), absl::Seconds(90)}) {
    TimeoutOptions options;
    options.close_budget = absl::Seconds(40);
    auto tail = std::make_shared<Recorder>();
    absl::Duration seen;
    tail->on_close = [&](Context& ctx, connection::Connection&) {
      seen = ctx.Remaining();
      return absl::OkStatus();
    };
    auto chain = MakeChain({std::make_shared<Begin>(), std::make_shared<Timeout>(options), tail});
    Context ctx(clock);
    ctx.set_deadline(clock.Now() + request_budget);
    auto request = RequestExpiringAt(clock.Now() + absl::Minutes(10));
    ASSERT_TRUE(chain->Request(ctx, request).ok());
    clock.Advance(absl::Minutes(10));
    ASSERT_EQ(tail->close_count(), 1u);
    EXPECT_EQ(seen, std::max(request_budget, absl::Seconds(40)));
  }
}

TEST_F(TimeoutTest, TheHopReleasesItsStateEvenWhenTheCloseDownstreamFails) {
  tail_->on_close = [](Context&, connection::Connection&) {
    return absl::DeadlineExceededError("next hop did not answer");
  };
  Context ctx(clock_);
  auto request = RequestExpiringAt(clock_.Now() + absl::Minutes(10));
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(tail_->close_count(), 1u);
  EXPECT_EQ(timeout_->armed(), 0u);
  EXPECT_EQ(begin_->size(), 0u);
  // Nothing fires again: the connection is gone at this hop.
  clock_.Advance(absl::Minutes(20));
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(TimeoutTest, ARefreshRearmsFromTheNewExpiry) {
  absl::Time start = clock_.Now();
  Context ctx(clock_);
  auto first = RequestExpiringAt(start + absl::Minutes(10));
  ASSERT_TRUE(chain_->Request(ctx, first).ok());
  clock_.Advance(absl::Minutes(5));
  auto refresh = RequestExpiringAt(start + absl::Minutes(15));
  ASSERT_TRUE(chain_->Request(ctx, refresh).ok());
  EXPECT_EQ(clock_.PendingTimers(), 1);
  clock_.Advance(absl::Minutes(9));  // past the first expiry
  EXPECT_EQ(tail_->close_count(), 0u);
  clock_.Advance(absl::Minutes(1));
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(TimeoutTest, AFailedRefreshKeepsTheOldTimer) {
  absl::Time start = clock_.Now();
  Context ctx(clock_);
  auto first = RequestExpiringAt(start + absl::Minutes(10));
  ASSERT_TRUE(chain_->Request(ctx, first).ok());
  tail_->on_request = [](Context&, networkservice::NetworkServiceRequest&) {
    return absl::UnavailableError("down");
  };
  auto refresh = RequestExpiringAt(start + absl::Minutes(15));
  EXPECT_FALSE(chain_->Request(ctx, refresh).ok());
  clock_.Advance(absl::Minutes(10));
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(TimeoutTest, CloseStopsTheTimer) {
  Context ctx(clock_);
  auto request = RequestExpiringAt(clock_.Now() + absl::Minutes(10));
  auto conn = chain_->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_EQ(clock_.PendingTimers(), 0);
  EXPECT_EQ(timeout_->armed(), 0u);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(TimeoutTest, WithoutAPreviousSegmentExpiryTheRequestFailsAndIsUndone) {
  Context ctx(clock_);
  auto request = RequestExpiringAt(clock_.Now());
  request.mutable_connection()->mutable_path()->mutable_path_segments(0)->clear_expires();
  auto conn = chain_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(std::string(conn.status().message()).find("expiry"), std::string::npos);
  EXPECT_EQ(tail_->close_count(), 1u);
  EXPECT_EQ(timeout_->armed(), 0u);
  EXPECT_EQ(begin_->size(), 0u);
}

TEST_F(TimeoutTest, AtTheFirstHopThereIsNoPreviousSegment) {
  Context ctx(clock_);
  auto request = RequestExpiringAt(clock_.Now());
  request.mutable_connection()->mutable_path()->set_index(0);
  EXPECT_EQ(chain_->Request(ctx, request).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST(Timeout, WithoutBeginTheRequestFailsAndIsUndone) {
  FakeClock clock;
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Timeout>(), tail});
  Context ctx(clock);
  auto request = RequestExpiringAt(clock.Now() + absl::Minutes(1));
  auto conn = chain->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(conn.status().message().find("begin"), std::string::npos);
  EXPECT_EQ(tail->close_count(), 1u);
}

}  // namespace
}  // namespace nsmcert::sdk
