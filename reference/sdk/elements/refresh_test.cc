#include "reference/sdk/elements/refresh.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

class RefreshTest : public ::testing::Test {
 protected:
  void SetUp() override {
    refresh_ = std::make_shared<Refresh>();
    tail_ = std::make_shared<Recorder>();
    // The "server": every successful call renews both tokens for `lifetime_`.
    tail_->on_request = [this](Context& ctx, networkservice::NetworkServiceRequest& request) {
      if (fail_) return absl::UnavailableError("nsmgr unreachable");
      for (auto& segment : *request.mutable_connection()->mutable_path()->mutable_path_segments()) {
        *segment.mutable_expires() = *tools::ToProtoTimestamp(ctx.Now() + lifetime_);
      }
      return absl::OkStatus();
    };
    chain_ = MakeChain({std::make_shared<Begin>(Begin::Side::kClient), refresh_, tail_});
  }
  void TearDown() override {
    Context ctx(clock_);
    connection::Connection conn;
    conn.set_id("nsc-0");
    (void)chain_->Close(ctx, conn);
  }

  absl::StatusOr<connection::Connection> Connect() {
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("nsc-0");
    for (const char* name : {"nsc", "nsmgr"}) {
      auto* s = conn->mutable_path()->add_path_segments();
      s->set_name(name);
    }
    Context ctx(clock_);
    return chain_->Request(ctx, request);
  }

  FakeClock clock_;
  absl::Duration lifetime_ = absl::Minutes(10);
  bool fail_ = false;
  std::shared_ptr<Refresh> refresh_;
  std::shared_ptr<Recorder> tail_;
  std::shared_ptr<NetworkServiceChain> chain_;
};

TEST_F(RefreshTest, ReRequestsAtTheScaledEarliestExpiry) {
  ASSERT_TRUE(Connect().ok());
  EXPECT_EQ(refresh_->armed(), 1u);
  // Index 0 of 2 segments: 0.2 x 10 min = 2 min.
  clock_.Advance(absl::Minutes(2) - absl::Seconds(1));
  EXPECT_EQ(tail_->request_count(), 1u);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(tail_->request_count(), 2u);
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(tail_->request_count(), 3u);
  // The refresh re-sends the connection it got back.
  EXPECT_EQ(tail_->requests()[2].connection().path().path_segments_size(), 2);
}

TEST_F(RefreshTest, AFailedRefreshIsRetriedEvery200Milliseconds) {
  ASSERT_TRUE(Connect().ok());
  fail_ = true;
  clock_.Advance(absl::Minutes(2));
  EXPECT_EQ(tail_->request_count(), 2u);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(tail_->request_count(), 3u);
  clock_.Advance(absl::Milliseconds(400));
  EXPECT_EQ(tail_->request_count(), 5u);
  fail_ = false;
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(tail_->request_count(), 6u);
  // Back on the normal schedule.
  clock_.Advance(absl::Minutes(2) - absl::Milliseconds(1));
  EXPECT_EQ(tail_->request_count(), 6u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(tail_->request_count(), 7u);
}

TEST_F(RefreshTest, RetriesStopOnceThePathHasExpired) {
  lifetime_ = absl::Seconds(1);
  ASSERT_TRUE(Connect().ok());
  fail_ = true;
  clock_.Advance(absl::Seconds(5));
  // First refresh at 200 ms, retries at 400, 600, 800 ms; at 1 s the tokens are gone.
  EXPECT_EQ(tail_->request_count(), 5u);
  EXPECT_EQ(clock_.PendingTimers(), 0);
}

TEST_F(RefreshTest, CloseStopsRefreshing) {
  auto conn = Connect();
  ASSERT_TRUE(conn.ok());
  Context ctx(clock_);
  ASSERT_TRUE(chain_->Close(ctx, *conn).ok());
  EXPECT_EQ(refresh_->armed(), 0u);
  EXPECT_EQ(clock_.PendingTimers(), 0);
  clock_.Advance(absl::Hours(1));
  EXPECT_EQ(tail_->request_count(), 1u);
}

TEST(Refresh, WithoutBeginTheRequestFailsAndIsUndone) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Refresh>(), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  EXPECT_EQ(chain->Request(ctx, request).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(tail->close_count(), 1u);
}

}  // namespace
}  // namespace nsmcert::sdk
