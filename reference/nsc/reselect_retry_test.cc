#include "reference/nsc/reselect_retry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>

#include "reference/sdk/elements/begin.h"

namespace nsmcert::nsc {
namespace {

// The rest of the client chain: records calls, can fail Requests, and keeps the EventFactory of the
// connection so the test can fire a reselect as heal would.
class Tail : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    factory = sdk::EventFactory::FromContext(ctx);
    requests.push_back(request);
    if (fail) return absl::UnavailableError("no endpoint yet");
    request.mutable_connection()->set_network_service_endpoint_name("nse-1");
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    ++closes;
    return next.Close(ctx, conn);
  }
  std::mutex mu;
  std::weak_ptr<sdk::EventFactory> factory;
  std::vector<networkservice::NetworkServiceRequest> requests;
  int closes = 0;
  std::atomic<bool> fail{false};
};

class ReselectRetryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chain_ = *sdk::NetworkServiceChain::Make(
        {std::make_shared<sdk::Begin>(sdk::Begin::Side::kClient), retry_, tail_});
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    sdk::Context ctx(clock_);
    ASSERT_TRUE(chain_->Request(ctx, request).ok());
  }
  void TearDown() override { Close(); }
  void Close() {
    retry_->ClosingByClient("nsc-0");
    sdk::Context ctx(clock_);
    connection::Connection conn;
    conn.set_id("nsc-0");
    (void)chain_->Close(ctx, conn);
  }
  absl::Status Reselect() {
    sdk::EventOptions options;
    options.reselect = true;
    return tail_->factory.lock()->Request(options);
  }
  size_t RequestCount() {
    std::lock_guard lock(tail_->mu);
    return tail_->requests.size();
  }

  sdk::FakeClock clock_;
  std::shared_ptr<ReselectRetry> retry_ = std::make_shared<ReselectRetry>(absl::Milliseconds(200));
  std::shared_ptr<Tail> tail_ = std::make_shared<Tail>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(ReselectRetryTest, ASuccessfulReselectLeavesNothingArmed) {
  ASSERT_TRUE(Reselect().ok());
  EXPECT_EQ(retry_->armed(), 0u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(RequestCount(), 2u);
  EXPECT_EQ(retry_->retries(), 0);
}

TEST_F(ReselectRetryTest, AFailedReselectIsRetriedUntilOneSucceeds) {
  tail_->fail = true;
  ASSERT_FALSE(Reselect().ok());
  EXPECT_EQ(retry_->armed(), 1u);
  clock_.Advance(absl::Milliseconds(199));
  EXPECT_EQ(RequestCount(), 2u);
  clock_.Advance(absl::Milliseconds(1));
  EXPECT_EQ(RequestCount(), 3u);
  EXPECT_EQ(retry_->retries(), 1);
  const auto& last = tail_->requests.back().connection();
  EXPECT_EQ(last.state(), connection::RESELECT_REQUESTED);
  EXPECT_TRUE(last.network_service_endpoint_name().empty());

  tail_->fail = false;
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(RequestCount(), 4u);
  EXPECT_EQ(retry_->armed(), 0u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(RequestCount(), 4u) << "healed: no more attempts";
}

TEST_F(ReselectRetryTest, TheApplicationsCloseIsFinal) {
  tail_->fail = true;
  ASSERT_FALSE(Reselect().ok());
  ASSERT_EQ(retry_->armed(), 1u);
  Close();
  EXPECT_EQ(retry_->armed(), 0u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(retry_->retries(), 0);
}

TEST_F(ReselectRetryTest, AClosedConnectionIsNotRevived) {
  Close();
  EXPECT_EQ(retry_->armed(), 0u);
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(RequestCount(), 1u);
}

}  // namespace
}  // namespace nsmcert::nsc
