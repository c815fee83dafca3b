#include "reference/forwarder/round_robin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/discover.h"
#include "reference/forwarder/testing.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Nse;

class RoundRobinTest : public ::testing::Test {
 protected:
  RoundRobinTest() {
    sink_ = std::make_shared<testing::Sink>();
    chain_ = testing::Chain({std::make_shared<RoundRobin>(), sink_});
  }

  absl::StatusOr<connection::Connection> Send(const std::string& service,
                                              std::vector<std::string> names) {
    sdk::Context ctx;
    auto candidates = std::make_shared<Candidates>();
    candidates->network_service.set_name(service);
    for (const auto& n : names) {
      candidates->endpoints.push_back(Nse(n, service, "unix:///" + n + ".sock"));
    }
    ctx.values().Set(candidates);
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("c");
    request.mutable_connection()->set_network_service(service);
    return chain_->Request(ctx, request);
  }

  std::vector<std::string> Chosen() const {
    std::vector<std::string> names;
    for (const auto& seen : sink_->requests()) {
      names.push_back(seen.request.connection().network_service_endpoint_name());
    }
    return names;
  }

  std::shared_ptr<testing::Sink> sink_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(RoundRobinTest, SuccessiveRequestsRotateOverTheCandidatesPerService) {
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Send("svc", {"a", "b", "c"}).ok());
  ASSERT_TRUE(Send("other", {"x", "y"}).ok());
  EXPECT_THAT(Chosen(), ElementsAre("a", "b", "c", "a", "x"));
  EXPECT_EQ(sink_->requests()[1].client_url, "unix:///b.sock");
}

TEST_F(RoundRobinTest, AFailingCandidateIsFollowedByTheNextOne) {
  sink_->on_request = [](networkservice::NetworkServiceRequest& r) {
    if (r.connection().network_service_endpoint_name() == "a") {
      return absl::UnavailableError("a is busy");
    }
    return absl::OkStatus();
  };
  auto conn = Send("svc", {"a", "b"});
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->network_service_endpoint_name(), "b");
  EXPECT_THAT(Chosen(), ElementsAre("a", "b"));
}

TEST_F(RoundRobinTest, WhenAllFailTheErrorNamesEveryCandidate) {
  sink_->on_request = [](networkservice::NetworkServiceRequest& r) {
    return absl::InvalidArgumentError(absl::StrCat("KERNEL mechanism parameter name: too long at ",
                                                   r.connection().network_service_endpoint_name()));
  };
  auto conn = Send("svc", {"a", "b"});
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr("a (unix:///a.sock)"));
  EXPECT_THAT(conn.status().message(), HasSubstr("b (unix:///b.sock)"));
  EXPECT_THAT(conn.status().message(), HasSubstr("parameter name"));
}

TEST_F(RoundRobinTest, WithoutCandidatesTheChainIsMisassembled) {
  sdk::Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = chain_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RoundRobinTest, AnEndpointFoundByNamePassesThrough) {
  sdk::Context ctx;
  ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{"unix:///named.sock"}));
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_network_service_endpoint_name("named");
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  EXPECT_THAT(Chosen(), ElementsAre("named"));
}

}  // namespace
}  // namespace nsmcert::forwarder
