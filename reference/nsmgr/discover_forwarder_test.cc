#include "reference/nsmgr/discover_forwarder.h"

#include <gtest/gtest.h>

#include <set>

#include "reference/nsmgr/local_bypass.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/registry/memory.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::nsmgr {
namespace {

constexpr char kOwnUrl[] = "tcp://10.0.0.1:5001";

// Where the chain would connect: records the forwarder each call was pointed at; refuses
// requests to the URLs in `failing`, and a Close without a URL, as the connect element does.
class FakeForwarders : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    const std::string url = Url(ctx);
    auto identity = ctx.values().Get<sdk::NextHopIdentity>();
    requests.push_back(url);
    identities.push_back(identity ? identity->spiffe_id : "");
    if (failing.contains(url)) return absl::UnavailableError("forwarder down");
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    const std::string url = Url(ctx);
    closes.push_back(url);
    if (url.empty()) return absl::FailedPreconditionError("connect: no client URL");
    if (failing.contains(url)) return absl::UnavailableError("forwarder down");
    return next.Close(ctx, conn);
  }

  std::set<std::string> failing;
  std::vector<std::string> requests;
  std::vector<std::string> identities;
  std::vector<std::string> closes;

 private:
  static std::string Url(sdk::Context& ctx) {
    auto url = ctx.values().Get<sdk::ClientUrl>();
    return url ? url->url : "";
  }
};

class DiscoverForwarderTest : public ::testing::Test {
 protected:
  void SetUp() override { Build(); }

  void Build() {
    discover_ = std::make_shared<DiscoverForwarder>(
        ns_store_, *sdk::NseRegistryChain::Make({bypass_, nse_store_}), own_url_);
    chain_ = *sdk::NetworkServiceChain::Make(
        {std::make_shared<sdk::ConnectionMetadata>(), discover_, forwarders_});
  }

  void AddService(registry::NetworkService ns) {
    sdk::Context ctx(clock_);
    ASSERT_TRUE(ns_store_->Register(ctx, ns, sdk::NsRegistryNext()).ok());
  }
  void AddService(const std::string& name) {
    registry::NetworkService ns;
    ns.set_name(name);
    AddService(ns);
  }
  // A forwarder registered through this nsmgr (the registry holds the own URL).
  void AddForwarder(const std::string& name, std::map<std::string, std::string> labels,
                    std::optional<absl::Time> expires = std::nullopt) {
    registry::NetworkServiceEndpoint nse;
    nse.set_name(name);
    nse.add_network_service_names("forwarder");
    auto& map = *(*nse.mutable_network_service_labels())["forwarder"].mutable_labels();
    for (const auto& [k, v] : labels) map[k] = v;
    nse.set_url(UrlOf(name));
    nse.add_path_ids("spiffe://example.org/" + name);
    if (expires) *nse.mutable_expiration_time() = *sdk::tools::ToProtoTimestamp(*expires);
    auto registry = *sdk::NseRegistryChain::Make({bypass_, nse_store_});
    sdk::Context ctx(clock_);
    ASSERT_TRUE(registry->Register(ctx, nse).ok());
  }
  void RemoveForwarder(const std::string& name) {
    registry::NetworkServiceEndpoint nse;
    nse.set_name(name);
    auto registry = *sdk::NseRegistryChain::Make({bypass_, nse_store_});
    sdk::Context ctx(clock_);
    ASSERT_TRUE(registry->Unregister(ctx, nse).ok());
  }
  static std::string UrlOf(const std::string& forwarder) {
    return "unix:///run/" + forwarder + ".sock";
  }

  networkservice::NetworkServiceRequest MakeRequest(const std::string& service = "icmp") {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("conn-1");
    request.mutable_connection()->set_network_service(service);
    (*request.mutable_connection()->mutable_labels())["app"] = "client";
    return request;
  }
  absl::StatusOr<connection::Connection> Send(networkservice::NetworkServiceRequest request) {
    sdk::Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + absl::Seconds(15));
    return chain_->Request(ctx, request);
  }
  absl::Status Close(connection::Connection conn) {
    sdk::Context ctx(clock_);
    return chain_->Close(ctx, conn);
  }

  sdk::FakeClock clock_;
  std::shared_ptr<OwnUrl> own_url_ = std::make_shared<OwnUrl>(kOwnUrl);
  std::shared_ptr<sdk::reg::NsMemory> ns_store_ = std::make_shared<sdk::reg::NsMemory>();
  std::shared_ptr<sdk::reg::NseMemory> nse_store_ = std::make_shared<sdk::reg::NseMemory>();
  std::shared_ptr<LocalBypass> bypass_ = std::make_shared<LocalBypass>(own_url_);
  std::shared_ptr<FakeForwarders> forwarders_ = std::make_shared<FakeForwarders>();
  std::shared_ptr<DiscoverForwarder> discover_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(DiscoverForwarderTest, ServiceWithoutMatchesTakesAnyLocalForwarder) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {});
  ASSERT_TRUE(Send(MakeRequest()).ok());
  // The real URL (not the nsmgr's, which the registry holds) and the forwarder's identity.
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-a")});
  EXPECT_EQ(forwarders_->identities, std::vector<std::string>{"spiffe://example.org/fwd-a"});
}

TEST_F(DiscoverForwarderTest, OnlyForwardersRegisteredThroughThisNsmgr) {
  AddService("icmp");
  registry::NetworkServiceEndpoint remote;
  remote.set_name("fwd-0-remote");
  remote.add_network_service_names("forwarder");
  remote.set_url("tcp://10.0.0.2:5001");
  sdk::Context ctx(clock_);
  ASSERT_TRUE(nse_store_->Register(ctx, remote, sdk::NseRegistryNext()).ok());
  AddForwarder("fwd-b", {{"p2p", "true"}});
  ASSERT_TRUE(Send(MakeRequest()).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, MatchWithoutMetadataRequiresP2p) {
  registry::NetworkService ns;
  ns.set_name("icmp");
  ns.add_matches();  // matches everything, no metadata labels
  AddService(ns);
  AddForwarder("fwd-a", {{"color", "blue"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  ASSERT_TRUE(Send(MakeRequest()).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, MatchMetadataLabelsSelectForwarders) {
  registry::NetworkService ns;
  ns.set_name("icmp");
  auto* other = ns.add_matches();
  (*other->mutable_source_selector())["app"] = "other";
  (*other->mutable_metadata()->mutable_labels())["color"] = "red";
  auto* mine = ns.add_matches();
  (*mine->mutable_source_selector())["app"] = "client";
  (*mine->mutable_metadata()->mutable_labels())["color"] = "blue";
  AddService(ns);
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"color", "blue"}});
  AddForwarder("fwd-c", {{"color", "red"}});
  ASSERT_TRUE(Send(MakeRequest()).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, TriesCandidatesInOrderThenSticksToTheOneThatWorked) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  forwarders_->failing = {UrlOf("fwd-a")};
  auto conn = Send(MakeRequest());
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(forwarders_->requests, (std::vector<std::string>{UrlOf("fwd-a"), UrlOf("fwd-b")}));

  // fwd-a works again, and re-registers: the refresh still goes to fwd-b.
  forwarders_->failing.clear();
  AddForwarder("fwd-a", {{"p2p", "true"}});
  forwarders_->requests.clear();
  ASSERT_TRUE(Send(MakeRequest()).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, RememberedForwarderGoneUntilReselect) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  ASSERT_TRUE(Send(MakeRequest()).ok());
  RemoveForwarder("fwd-a");

  auto refresh = Send(MakeRequest());
  EXPECT_EQ(refresh.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refresh.status().message().find("forwarder fwd-a is not available"), std::string::npos)
      << refresh.status();

  forwarders_->requests.clear();
  auto reselect = MakeRequest();
  reselect.mutable_connection()->set_state(connection::RESELECT_REQUESTED);
  ASSERT_TRUE(Send(reselect).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, PrefersTheForwarderNamedInThePath) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  // A connection an earlier run of this nsmgr built through fwd-b: [nsc, nsmgr, fwd-b, nse].
  auto request = MakeRequest();
  auto* path = request.mutable_connection()->mutable_path();
  path->set_index(1);
  for (const char* name : {"nsc", "nsmgr", "fwd-b", "nse"})
    path->add_path_segments()->set_name(name);
  ASSERT_TRUE(Send(request).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, ExpiredForwardersAreSkipped) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}}, clock_.Now() - absl::Seconds(1));
  AddForwarder("fwd-b", {{"p2p", "true"}}, clock_.Now() + absl::Minutes(1));
  ASSERT_TRUE(Send(MakeRequest()).ok());
  EXPECT_EQ(forwarders_->requests, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, ClearErrors) {
  AddService("icmp");
  auto no_service = Send(MakeRequest(""));
  EXPECT_EQ(no_service.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_service.status().message().find("connection.network_service"), std::string::npos);

  auto unknown = Send(MakeRequest("nope"));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("network service nope is not found"), std::string::npos)
      << unknown.status();

  auto no_forwarder = Send(MakeRequest());
  EXPECT_EQ(no_forwarder.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(no_forwarder.status().message().find("no forwarder candidates"), std::string::npos);

  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  forwarders_->failing = {UrlOf("fwd-a"), UrlOf("fwd-b")};
  auto all_failed = Send(MakeRequest());
  EXPECT_EQ(all_failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(all_failed.status().message().find("fwd-a"), std::string::npos);
  EXPECT_NE(all_failed.status().message().find("fwd-b"), std::string::npos);
  EXPECT_TRUE(forwarders_->closes.empty());
}

TEST_F(DiscoverForwarderTest, CloseGoesToTheForwarderUsed) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  forwarders_->failing = {UrlOf("fwd-a")};
  auto conn = Send(MakeRequest());
  ASSERT_TRUE(conn.ok());
  forwarders_->failing.clear();
  EXPECT_TRUE(Close(*conn).ok());
  EXPECT_EQ(forwarders_->closes, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, CloseFindsTheForwarderFromThePathAfterARestart) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  connection::Connection conn;
  conn.set_id("conn-1");
  conn.set_network_service("icmp");
  conn.mutable_path()->set_index(1);
  for (const char* name : {"nsc", "nsmgr", "fwd-b", "nse"}) {
    conn.mutable_path()->add_path_segments()->set_name(name);
  }
  EXPECT_TRUE(Close(conn).ok());
  EXPECT_EQ(forwarders_->closes, std::vector<std::string>{UrlOf("fwd-b")});
}

TEST_F(DiscoverForwarderTest, CloseWithTheForwarderGoneStillRunsTheRestAndSucceeds) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  AddForwarder("fwd-b", {{"p2p", "true"}});
  // A Close this process did not see the Request for: the path names fwd-b, which is gone.
  connection::Connection conn;
  conn.set_id("conn-1");
  conn.mutable_path()->set_index(1);
  for (const char* name : {"nsc", "nsmgr", "fwd-b", "nse"}) {
    conn.mutable_path()->add_path_segments()->set_name(name);
  }
  RemoveForwarder("fwd-b");
  EXPECT_TRUE(Close(conn).ok());
  // The rest of the chain saw the Close, without a URL to go to.
  EXPECT_EQ(forwarders_->closes, std::vector<std::string>{""});
}

TEST_F(DiscoverForwarderTest, CloseReachesTheRememberedForwarderWithoutTheRegistry) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  auto conn = Send(MakeRequest());
  ASSERT_TRUE(conn.ok());
  // Gone from the registry (or the registry too slow to answer): the Close still reaches it.
  RemoveForwarder("fwd-a");
  EXPECT_TRUE(Close(*conn).ok());
  EXPECT_EQ(forwarders_->closes, std::vector<std::string>{UrlOf("fwd-a")});
}

TEST_F(DiscoverForwarderTest, AnUnreachableRememberedForwarderIsClosedAtThisHopOnly) {
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  auto conn = Send(MakeRequest());
  ASSERT_TRUE(conn.ok());
  forwarders_->failing = {UrlOf("fwd-a")};
  EXPECT_TRUE(Close(*conn).ok());
  EXPECT_EQ(forwarders_->closes, std::vector<std::string>{UrlOf("fwd-a")});
}

// Sees the deadline of every NS Find.
class FindDeadlines : public sdk::NsRegistryElement {
 public:
  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceQuery& query,
                    sdk::NsFindSink& sink, const sdk::NsRegistryNext& next) override {
    seen.push_back(ctx.Remaining());
    return next.Find(ctx, query, sink);
  }
  std::vector<absl::Duration> seen;
};

TEST_F(DiscoverForwarderTest, RegistryCallsGetAThirdOfTheRequestsTimeAtLeastTheFloor) {
  DiscoverForwarderOptions options;
  options.registry_call_timeout = absl::Milliseconds(750);
  auto deadlines = std::make_shared<FindDeadlines>();
  discover_ = std::make_shared<DiscoverForwarder>(
      *sdk::NsRegistryChain::Make({deadlines, ns_store_}),
      *sdk::NseRegistryChain::Make({bypass_, nse_store_}), own_url_, options);
  chain_ = *sdk::NetworkServiceChain::Make(
      {std::make_shared<sdk::ConnectionMetadata>(), discover_, forwarders_});
  AddService("icmp");
  AddForwarder("fwd-a", {{"p2p", "true"}});
  for (absl::Duration budget : {absl::Seconds(120), absl::Seconds(1)}) {
    sdk::Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + budget);
    auto request = MakeRequest();
    request.mutable_connection()->set_id("conn-" + absl::FormatDuration(budget));
    ASSERT_TRUE(chain_->Request(ctx, request).ok());
  }
  EXPECT_EQ(deadlines->seen,
            (std::vector<absl::Duration>{absl::Seconds(40), absl::Milliseconds(750)}));
}

}  // namespace
}  // namespace nsmcert::nsmgr
