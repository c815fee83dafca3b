#include "reference/forwarder/discover.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/testing.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::forwarder {
namespace {

using testing::Chain;
using ::testing::HasSubstr;
using testing::Nse;

class DiscoverTest : public ::testing::Test {
 protected:
  DiscoverTest() {
    ns_registry_ = std::make_shared<testing::FakeNsRegistry>();
    nse_registry_ = std::make_shared<testing::FakeNseRegistry>();
    sink_ = std::make_shared<testing::Sink>();
    chain_ = Chain({std::make_shared<Discover>(ns_registry_, nse_registry_), sink_});
  }

  void AddService(const std::string& name, const std::string& payload,
                  std::vector<registry::Match> matches = {}) {
    registry::NetworkService ns;
    ns.set_name(name);
    ns.set_payload(payload);
    for (auto& m : matches) *ns.add_matches() = m;
    ns_registry_->Add(ns);
  }

  networkservice::NetworkServiceRequest Request(const std::string& service) {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("conn-1");
    request.mutable_connection()->set_network_service(service);
    return request;
  }

  sdk::FakeClock clock_;
  std::shared_ptr<testing::FakeNsRegistry> ns_registry_;
  std::shared_ptr<testing::FakeNseRegistry> nse_registry_;
  std::shared_ptr<testing::Sink> sink_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

registry::Match RouteByLabel(std::map<std::string, std::string> source,
                             std::map<std::string, std::string> destination,
                             bool fallthrough = false) {
  registry::Match match;
  for (auto& [k, v] : source) (*match.mutable_source_selector())[k] = v;
  auto* route = match.add_routes();
  for (auto& [k, v] : destination) (*route->mutable_destination_selector())[k] = v;
  match.set_fallthrough(fallthrough);
  return match;
}

TEST_F(DiscoverTest, EndpointNamedInTheRequestIsReachedAtItsRegisteredUrl) {
  nse_registry_->Add(Nse("nse-1", "svc", "unix:///run/nse-1.sock"));
  nse_registry_->Add(Nse("nse-2", "svc", "tcp://10.0.0.2:5001"));
  auto request = Request("svc");
  request.mutable_connection()->set_network_service_endpoint_name("nse-2");
  sdk::Context ctx(clock_);
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  ASSERT_EQ(sink_->requests().size(), 1u);
  EXPECT_EQ(sink_->requests()[0].client_url, "tcp://10.0.0.2:5001");
  EXPECT_FALSE(sink_->requests()[0].candidates.has_value());
}

TEST_F(DiscoverTest, UnknownEndpointNameIsNotFoundAndNothingRunsAfter) {
  auto request = Request("svc");
  request.mutable_connection()->set_network_service_endpoint_name("nse-gone");
  sdk::Context ctx(clock_);
  auto conn = chain_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(conn.status().message(), HasSubstr("nse-gone"));
  EXPECT_TRUE(sink_->requests().empty());
}

TEST_F(DiscoverTest, CandidatesAreTheMatchingLiveEndpointsAndPayloadComesFromTheService) {
  AddService("svc", "ETHERNET", {RouteByLabel({{"app", "a"}}, {{"color", "red"}})});
  auto expired = Nse("red-old", "svc", "unix:///old.sock", {{"color", "red"}});
  *expired.mutable_expiration_time() =
      *sdk::tools::ToProtoTimestamp(clock_.Now() - absl::Seconds(1));
  auto fresh = Nse("red-1", "svc", "unix:///red.sock", {{"color", "red"}});
  *fresh.mutable_expiration_time() = *sdk::tools::ToProtoTimestamp(clock_.Now() + absl::Minutes(1));
  nse_registry_->Add(expired);
  nse_registry_->Add(fresh);
  nse_registry_->Add(Nse("blue-1", "svc", "unix:///blue.sock", {{"color", "blue"}}));
  nse_registry_->Add(Nse("other", "other-svc", "unix:///other.sock", {{"color", "red"}}));

  auto request = Request("svc");
  (*request.mutable_connection()->mutable_labels())["app"] = "a";
  sdk::Context ctx(clock_);
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  ASSERT_EQ(sink_->requests().size(), 1u);
  const auto seen = sink_->requests()[0];
  ASSERT_TRUE(seen.candidates.has_value());
  ASSERT_EQ(seen.candidates->endpoints.size(), 1u);
  EXPECT_EQ(seen.candidates->endpoints[0].name(), "red-1");
  EXPECT_EQ(seen.candidates->network_service.name(), "svc");
  EXPECT_EQ(seen.request.connection().payload(), "ETHERNET");
  EXPECT_EQ(seen.client_url, "");  // round_robin picks
}

TEST_F(DiscoverTest, TemplatedSelectorPrefersEndpointsOnTheClientsNode) {
  AddService("svc", "IP", {RouteByLabel({}, {{"nodeName", "{{.nodeName}}"}})});
  nse_registry_->Add(Nse("on-a", "svc", "unix:///a.sock", {{"nodeName", "node-a"}}));
  nse_registry_->Add(Nse("on-b", "svc", "tcp://10.0.0.2:5001", {{"nodeName", "node-b"}}));
  auto request = Request("svc");
  (*request.mutable_connection()->mutable_labels())["nodeName"] = "node-b";
  sdk::Context ctx(clock_);
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  ASSERT_TRUE(sink_->requests()[0].candidates.has_value());
  ASSERT_EQ(sink_->requests()[0].candidates->endpoints.size(), 1u);
  EXPECT_EQ(sink_->requests()[0].candidates->endpoints[0].name(), "on-b");
}

TEST_F(DiscoverTest, OnlyExpiredOrNonMatchingEndpointsMeansNoCandidates) {
  AddService("svc", "ETHERNET", {RouteByLabel({}, {{"color", "green"}})});
  nse_registry_->Add(Nse("red-1", "svc", "unix:///red.sock", {{"color", "red"}}));
  sdk::Context ctx(clock_);
  auto request = Request("svc");
  auto conn = chain_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(conn.status().message(), HasSubstr("network service endpoint candidates not found"));
  EXPECT_TRUE(sink_->requests().empty());
}

TEST_F(DiscoverTest, UnknownNetworkServiceIsNotFound) {
  nse_registry_->Add(Nse("nse-1", "svc", "unix:///nse.sock"));
  sdk::Context ctx(clock_);
  auto request = Request("svc");
  auto conn = chain_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(conn.status().message(), HasSubstr("network service svc is not found"));
}

TEST_F(DiscoverTest, RegistryErrorsAreReportedWithWhatWasLookedFor) {
  AddService("svc", "ETHERNET");
  nse_registry_->FailFinds(true);
  sdk::Context ctx(clock_);
  auto request = Request("svc");
  auto conn = chain_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(conn.status().message(), HasSubstr("find network service endpoints of svc"));
}

TEST_F(DiscoverTest, AClientUrlChosenEarlierIsLeftAlone) {
  sdk::Context ctx(clock_);
  ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{"unix:///chosen.sock"}));
  auto request = Request("svc");
  ASSERT_TRUE(chain_->Request(ctx, request).ok());
  EXPECT_EQ(sink_->requests()[0].client_url, "unix:///chosen.sock");
  EXPECT_EQ(nse_registry_->finds(), 0);
}

TEST_F(DiscoverTest, CloseReachesTheEndpointByName) {
  nse_registry_->Add(Nse("nse-1", "svc", "unix:///nse.sock"));
  connection::Connection conn;
  conn.set_id("conn-1");
  conn.set_network_service_endpoint_name("nse-1");
  sdk::Context ctx(clock_);
  EXPECT_TRUE(chain_->Close(ctx, conn).ok());
  ASSERT_EQ(sink_->closes().size(), 1u);
  EXPECT_EQ(sink_->closes()[0].second, "unix:///nse.sock");
}

TEST_F(DiscoverTest, CloseReachesTheEndpointARequestReachedWithoutALookup) {
  // With the connection's metadata, as in the forwarder's chain.
  auto chain = Chain({std::make_shared<sdk::Begin>(), std::make_shared<sdk::ConnectionMetadata>(),
                      std::make_shared<Discover>(ns_registry_, nse_registry_), sink_});
  nse_registry_->Add(Nse("nse-1", "svc", "unix:///nse.sock"));
  auto request = Request("svc");
  request.mutable_connection()->set_network_service_endpoint_name("nse-1");
  sdk::Context ctx(clock_);
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  const int finds = nse_registry_->finds();
  // The registry cannot answer any more (a saturated node); the Close still reaches the endpoint.
  nse_registry_->FailFinds(true);
  sdk::Context close_ctx(clock_);
  EXPECT_TRUE(chain->Close(close_ctx, *conn).ok());
  EXPECT_EQ(nse_registry_->finds(), finds);
  ASSERT_EQ(sink_->closes().size(), 1u);
  EXPECT_EQ(sink_->closes()[0].second, "unix:///nse.sock");
}

TEST_F(DiscoverTest, RegistryLookupsGetAThirdOfTheRequestsTimeAtLeastTheFloor) {
  DiscoverOptions options;
  options.registry_call_timeout = absl::Milliseconds(750);
  std::vector<absl::Duration> budgets;
  nse_registry_->on_find = [&](const sdk::Context& call) { budgets.push_back(call.Remaining()); };
  auto chain = Chain({std::make_shared<Discover>(ns_registry_, nse_registry_, options), sink_});
  nse_registry_->Add(Nse("nse-1", "svc", "unix:///nse.sock"));
  for (absl::Duration budget : {absl::Seconds(120), absl::Seconds(1)}) {
    auto request = Request("svc");
    request.mutable_connection()->set_network_service_endpoint_name("nse-1");
    sdk::Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + budget);
    ASSERT_TRUE(chain->Request(ctx, request).ok());
  }
  EXPECT_THAT(budgets, ::testing::ElementsAre(absl::Seconds(40), absl::Milliseconds(750)));
}

TEST_F(DiscoverTest, CloseContinuesWhenTheEndpointIsGone) {
  connection::Connection conn;
  conn.set_id("conn-1");
  conn.set_network_service_endpoint_name("nse-gone");
  sdk::Context ctx(clock_);
  EXPECT_TRUE(chain_->Close(ctx, conn).ok());
  ASSERT_EQ(sink_->closes().size(), 1u);
  EXPECT_EQ(sink_->closes()[0].second, "");
}

}  // namespace
}  // namespace nsmcert::forwarder
