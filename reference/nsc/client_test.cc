// The NSC's client chain against a fake nsmgr (the connect tail) and fake monitor streams, on a
// fake clock: what the nsmgr receives, refresh, and the heal decisions of spec §11.
#include "reference/nsc/client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::nsc {
namespace {

constexpr char kNetNs[] = "inode://4/4026532100";
constexpr absl::Duration kTokenLifetime = absl::Minutes(10);

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// Answers like an nsmgr in front of a forwarder and an endpoint: a four-segment path whose tokens
// expire with the token lifetime, the endpoint's name, the client's mechanism, addresses.
class FakeNsmgr : public sdk::NetworkServiceElement {
 public:
  explicit FakeNsmgr(sdk::FakeClock& clock) : clock_(clock) {}

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    requests.push_back(request);
    metadata.push_back(ctx.outgoing_metadata());
    if (failures > 0) {
      --failures;
      return absl::UnavailableError("no endpoint");
    }
    connection::Connection& conn = *request.mutable_connection();
    auto expires = *sdk::tools::ToProtoTimestamp(clock_.Now() + kTokenLifetime);
    auto* path = conn.mutable_path();
    for (const char* name : {"nsmgr", "forwarder", endpoint.c_str()}) {
      if (path->path_segments_size() < 4) path->add_path_segments()->set_name(name);
    }
    path->mutable_path_segments(3)->set_name(endpoint);
    for (auto& segment : *path->mutable_path_segments()) {
      if (segment.id().empty()) segment.set_id(segment.name() + "-id");
      segment.set_token("token-of-" + segment.name());
      *segment.mutable_expires() = expires;
    }
    if (conn.network_service_endpoint_name().empty())
      conn.set_network_service_endpoint_name(endpoint);
    if (!conn.has_mechanism()) *conn.mutable_mechanism() = request.mechanism_preferences(0);
    auto* ip = conn.mutable_context()->mutable_ip_context();
    ip->clear_src_ip_addrs();
    ip->clear_dst_ip_addrs();
    ip->add_src_ip_addrs("172.16.1.101/32");
    ip->add_dst_ip_addrs("172.16.1.100/32");
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    closes.push_back(conn);
    return next.Close(ctx, conn);
  }

  size_t request_count() {
    std::lock_guard lock(mu);
    return requests.size();
  }
  size_t close_count() {
    std::lock_guard lock(mu);
    return closes.size();
  }
  connection::Connection last_request() {
    std::lock_guard lock(mu);
    return requests.back().connection();
  }

  std::mutex mu;
  std::vector<networkservice::NetworkServiceRequest> requests;
  std::vector<sdk::Metadata> metadata;
  std::vector<connection::Connection> closes;
  int failures = 0;
  std::string endpoint = "nse-1";

 private:
  sdk::FakeClock& clock_;
};

// A monitor stream the test feeds: events, or an error that ends it.
struct StreamState {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<absl::StatusOr<connection::ConnectionEvent>> items;
  bool cancelled = false;
};

class FakeStream : public sdk::ConnectionEventStream {
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

class NscClientTest : public ::testing::Test {
 protected:
  void Make(std::function<void(NscOptions&)> adjust = {}) {
    NscOptions options;
    options.name = "nsc";
    options.connect_to = "unix:///run/nsm/nsm.io.sock";
    options.signer = std::make_shared<sdk::tools::Es256TokenSigner>(
        *sdk::tools::SpiffeId::Parse("spiffe://example.org/nsc"), *sdk::tools::EcKey::Generate(),
        kTokenLifetime, [this] { return clock_.Now(); });
    options.netns_url = kNetNs;
    options.clock = &clock_;
    options.env = [](std::string_view name) -> std::optional<std::string> {
      if (name == "NODE_NAME") return "node-1";
      return std::nullopt;
    };
    options.connect = nsmgr_;
    options.monitor = [this](const std::string& url, const connection::MonitorScopeSelector& s)
        -> absl::StatusOr<std::unique_ptr<sdk::ConnectionEventStream>> {
      std::lock_guard lock(mu_);
      urls_.push_back(url);
      selectors_.push_back(s);
      streams_.push_back(std::make_shared<StreamState>());
      return std::make_unique<FakeStream>(streams_.back());
    };
    if (adjust) adjust(options);
    auto client = NscClient::Create(std::move(options));
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
  }
  void TearDown() override {
    if (client_ != nullptr) (void)client_->CloseAll(absl::Seconds(1));
  }

  networkservice::NetworkServiceRequest ServiceRequest() {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    request.mutable_connection()->set_network_service("icmp-responder");
    (*request.mutable_connection()->mutable_labels())["color"] = "red";
    auto* kernel = request.add_mechanism_preferences();
    kernel->set_cls("LOCAL");
    kernel->set_type("KERNEL");
    (*kernel->mutable_parameters())["name"] = "nsm-1";
    return request;
  }
  absl::StatusOr<connection::Connection> Connect() {
    return client_->Request(ServiceRequest(), absl::Seconds(15));
  }

  size_t StreamCount() {
    std::lock_guard lock(mu_);
    return streams_.size();
  }
  void Push(size_t i, absl::StatusOr<connection::ConnectionEvent> item) {
    std::shared_ptr<StreamState> s;
    {
      std::lock_guard lock(mu_);
      s = streams_.at(i);
    }
    std::lock_guard lock(s->mu);
    s->items.push_back(std::move(item));
    s->cv.notify_all();
  }
  static connection::ConnectionEvent Down() {
    connection::ConnectionEvent event;
    event.set_type(connection::UPDATE);
    auto& c = (*event.mutable_connections())["nsc-0"];
    c.set_id("nsc-0");
    c.set_state(connection::DOWN);
    return event;
  }
  // Waits until a heal attempt waits on the clock, then lets it run.
  void RunPendingAttempt() {
    ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() > pending_before_; }));
    clock_.Advance(absl::ZeroDuration());
  }

  sdk::FakeClock clock_;
  std::shared_ptr<FakeNsmgr> nsmgr_ = std::make_shared<FakeNsmgr>(clock_);
  std::mutex mu_;
  std::vector<std::string> urls_;
  std::vector<connection::MonitorScopeSelector> selectors_;
  std::vector<std::shared_ptr<StreamState>> streams_;
  std::atomic<bool> alive_{true};
  std::atomic<int> checks_{0};
  std::unique_ptr<NscClient> client_;
  int pending_before_ = 1;  // the refresh timer
};

TEST_F(NscClientTest, WhatTheNsmgrReceives) {
  Make();
  auto conn = Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_EQ(nsmgr_->request_count(), 1u);
  const auto& request = nsmgr_->requests[0];
  const auto& sent = request.connection();
  EXPECT_EQ(sent.id(), "nsc-0");
  ASSERT_EQ(sent.path().path_segments_size(), 1);
  EXPECT_EQ(sent.path().index(), 0u);
  EXPECT_EQ(sent.path().path_segments(0).name(), "nsc");
  EXPECT_EQ(sent.path().path_segments(0).id(), "nsc-0");
  EXPECT_EQ(sent.labels().at("color"), "red");
  EXPECT_EQ(sent.labels().at("nodeName"), "node-1");
  ASSERT_EQ(request.mechanism_preferences_size(), 1);
  EXPECT_EQ(request.mechanism_preferences(0).type(), "KERNEL");
  EXPECT_EQ(request.mechanism_preferences(0).parameters().at("name"), "nsm-1");
  EXPECT_EQ(request.mechanism_preferences(0).parameters().at("inodeURL"), kNetNs);
  const sdk::Metadata& metadata = nsmgr_->metadata[0];
  ASSERT_EQ(metadata.count(std::string(api::metadata::kClientToken)), 1u);
  ASSERT_EQ(metadata.count(std::string(api::metadata::kClientTokenExpires)), 1u);

  EXPECT_EQ(conn->id(), "nsc-0");
  EXPECT_EQ(conn->path().path_segments_size(), 4);
  EXPECT_EQ(conn->network_service_endpoint_name(), "nse-1");

  std::lock_guard lock(mu_);
  ASSERT_EQ(selectors_.size(), 1u);
  EXPECT_EQ(urls_[0], "unix:///run/nsm/nsm.io.sock");
  ASSERT_EQ(selectors_[0].path_segments_size(), 1);
  EXPECT_EQ(selectors_[0].path_segments(0).name(), "nsc");
  EXPECT_EQ(selectors_[0].path_segments(0).id(), "nsc-0");
}

TEST_F(NscClientTest, RefreshesAtAFifthOfTheTokenLifetime) {
  Make();
  ASSERT_TRUE(Connect().ok());
  clock_.Advance(absl::Seconds(119));
  EXPECT_EQ(nsmgr_->request_count(), 1u);
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(nsmgr_->request_count(), 2u);
  const auto refresh = nsmgr_->last_request();
  EXPECT_EQ(refresh.id(), "nsc-0");
  EXPECT_EQ(refresh.path().path_segments_size(), 4) << "the returned path goes back";
  EXPECT_EQ(refresh.network_service_endpoint_name(), "nse-1");
  EXPECT_EQ(nsmgr_->close_count(), 0u);
}

TEST_F(NscClientTest, BrokenMonitorWithALiveDataPathReRequestsTheSamePath) {
  Make([](NscOptions& o) {
    o.liveness = [](const connection::Connection&) { return true; };
    o.liveness_interval = absl::ZeroDuration();
  });
  ASSERT_TRUE(Connect().ok());
  Push(0, absl::UnavailableError("nsmgr restarted"));
  RunPendingAttempt();
  ASSERT_EQ(nsmgr_->request_count(), 2u);
  EXPECT_EQ(nsmgr_->close_count(), 0u);
  const auto again = nsmgr_->last_request();
  EXPECT_EQ(again.state(), connection::UP);
  EXPECT_EQ(again.network_service_endpoint_name(), "nse-1");
  EXPECT_TRUE(again.has_mechanism());
  EXPECT_TRUE(WaitFor([&] { return StreamCount() == 2; })) << "monitoring restarts";
}

TEST_F(NscClientTest, DownWithADeadDataPathReselects) {
  Make([](NscOptions& o) {
    o.liveness = [](const connection::Connection&) { return false; };
    o.liveness_interval = absl::ZeroDuration();
  });
  ASSERT_TRUE(Connect().ok());
  nsmgr_->endpoint = "nse-2";
  Push(0, Down());
  RunPendingAttempt();
  ASSERT_EQ(nsmgr_->close_count(), 1u);
  EXPECT_EQ(nsmgr_->closes[0].network_service_endpoint_name(), "nse-1");
  ASSERT_EQ(nsmgr_->request_count(), 2u);
  const auto again = nsmgr_->last_request();
  EXPECT_EQ(again.state(), connection::RESELECT_REQUESTED);
  EXPECT_FALSE(again.has_mechanism());
  EXPECT_TRUE(again.network_service_endpoint_name().empty());
  EXPECT_EQ(again.id(), "nsc-0");
}

TEST_F(NscClientTest, WithoutALivenessCheckEveryBreakReselects) {
  Make();
  ASSERT_TRUE(Connect().ok());
  Push(0, absl::UnavailableError("nsmgr restarted"));
  RunPendingAttempt();
  EXPECT_EQ(nsmgr_->close_count(), 1u);
  EXPECT_EQ(nsmgr_->last_request().state(), connection::RESELECT_REQUESTED);
}

TEST_F(NscClientTest, AFailedReselectIsRetriedUntilItWorks) {
  Make();
  ASSERT_TRUE(Connect().ok());
  {
    std::lock_guard lock(nsmgr_->mu);
    nsmgr_->failures = 2;
  }
  Push(0, Down());
  RunPendingAttempt();
  EXPECT_EQ(nsmgr_->request_count(), 2u);
  clock_.Advance(absl::Milliseconds(200));
  EXPECT_EQ(nsmgr_->request_count(), 3u);
  clock_.Advance(absl::Milliseconds(200));
  ASSERT_EQ(nsmgr_->request_count(), 4u);
  EXPECT_EQ(nsmgr_->last_request().state(), connection::RESELECT_REQUESTED);
  EXPECT_EQ(client_->heal()->pending(), 0u);
  EXPECT_TRUE(WaitFor([&] { return StreamCount() == 2; })) << "healed: monitoring again";
  clock_.Advance(absl::Seconds(5));
  EXPECT_EQ(nsmgr_->request_count(), 4u);
}

TEST_F(NscClientTest, APeriodicLivenessFailureReselects) {
  Make([this](NscOptions& o) {
    o.liveness = [this](const connection::Connection&) {
      ++checks_;
      return alive_.load();
    };
  });
  ASSERT_TRUE(Connect().ok());
  // Pending: the refresh and the checker's interval.
  ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() == 2; }));
  clock_.Advance(absl::Milliseconds(200));
  ASSERT_TRUE(WaitFor([&] { return checks_ == 1; }));
  alive_ = false;
  ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() == 2; }));
  clock_.Advance(absl::Milliseconds(200));
  ASSERT_TRUE(WaitFor([&] { return client_->data_path_monitor()->failures() == 1; }));
  // Pending: the refresh and the reselect, due at once.
  ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() == 2; }));
  alive_ = true;
  clock_.Advance(absl::ZeroDuration());
  EXPECT_EQ(nsmgr_->close_count(), 1u);
  EXPECT_EQ(nsmgr_->last_request().state(), connection::RESELECT_REQUESTED);
  EXPECT_EQ(client_->data_path_monitor()->checking(), 1u) << "the new path is checked";
}

TEST_F(NscClientTest, CloseGoesAlongThePathAndEndsHealing) {
  Make();
  auto conn = Connect();
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(client_->Close(*conn, absl::Seconds(5)).ok());
  ASSERT_EQ(nsmgr_->close_count(), 1u);
  EXPECT_EQ(nsmgr_->closes[0].path().path_segments_size(), 4) << "closed with the returned path";
  EXPECT_EQ(client_->heal()->watching(), 0u);
  EXPECT_EQ(clock_.PendingTimers(), 0) << "no refresh, no retry";
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(nsmgr_->request_count(), 1u);
}

TEST_F(NscClientTest, RequestUntilConnectedRetriesUntilTheNsmgrAnswers) {
  Make();
  {
    std::lock_guard lock(nsmgr_->mu);
    nsmgr_->failures = 2;
  }
  sdk::Context lifetime;
  int failures = 0;
  auto conn =
      client_->RequestUntilConnected(ServiceRequest(), absl::Seconds(15), absl::InfiniteDuration(),
                                     lifetime, [&](const absl::Status&) { ++failures; });
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(nsmgr_->request_count(), 3u);
}

TEST_F(NscClientTest, RequestUntilConnectedStopsWhenCancelledOrGivenUp) {
  Make();
  {
    std::lock_guard lock(nsmgr_->mu);
    nsmgr_->failures = 1000;
  }
  sdk::Context lifetime;
  lifetime.Cancel();
  auto conn = client_->RequestUntilConnected(ServiceRequest(), absl::Seconds(15),
                                             absl::InfiniteDuration(), lifetime);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kCancelled);
  sdk::Context fresh;
  conn = client_->RequestUntilConnected(ServiceRequest(), absl::Seconds(15), absl::ZeroDuration(),
                                        fresh);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable) << "the last error";
}

TEST(NscClient, NamesMissingOptions) {
  NscOptions options;
  options.connect_to = "";
  auto client = NscClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("connect_to"), std::string::npos);
  options.connect_to = "http://nsmgr";
  options.signer = std::make_shared<sdk::tools::Hs256TokenSigner>(
      *sdk::tools::SpiffeId::Parse("spiffe://example.org/nsc"), "secret");
  options.netns_url = kNetNs;
  client = NscClient::Create(options);
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("http://nsmgr"), std::string::npos) << client.status();
}

}  // namespace
}  // namespace nsmcert::nsc
