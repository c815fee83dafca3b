#include "reference/nsc/redial.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/clienturl.h"

namespace nsmcert::nsc {
namespace {

class FailingTail : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    if (!status.ok()) return status;
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    if (!status.ok()) return status;
    return next.Close(ctx, conn);
  }
  absl::Status status;
};

class RedialTest : public ::testing::Test {
 protected:
  absl::Status Request() {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    sdk::Context ctx;
    return chain_->Request(ctx, request).status();
  }
  absl::Status Close() {
    connection::Connection conn;
    conn.set_id("nsc-0");
    sdk::Context ctx;
    return chain_->Close(ctx, conn);
  }
  std::shared_ptr<grpc::Channel> Channel() { return *channels_->Get(kUrl); }

  static constexpr char kUrl[] = "unix:///run/nsm/nsm.io.sock";
  std::shared_ptr<sdk::ChannelPool> channels_ = std::make_shared<sdk::ChannelPool>();
  std::shared_ptr<FailingTail> tail_ = std::make_shared<FailingTail>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_ = *sdk::NetworkServiceChain::Make(
      {std::make_shared<sdk::ClientUrlElement>(kUrl), std::make_shared<Redial>(channels_), tail_});
};

TEST_F(RedialTest, AnUnreachableNsmgrGetsAFreshChannel) {
  auto before = Channel();
  tail_->status = absl::UnavailableError("connection refused");
  EXPECT_FALSE(Request().ok());
  auto after = Channel();
  EXPECT_NE(before, after);
  tail_->status = absl::DeadlineExceededError("no answer");
  EXPECT_FALSE(Close().ok());
  EXPECT_NE(after, Channel());
}

TEST_F(RedialTest, OtherOutcomesKeepTheChannel) {
  auto before = Channel();
  EXPECT_TRUE(Request().ok());
  EXPECT_TRUE(Close().ok());
  tail_->status = absl::InvalidArgumentError("bad request");
  EXPECT_FALSE(Request().ok());
  EXPECT_EQ(before, Channel());
}

}  // namespace
}  // namespace nsmcert::nsc
