// Drives registry chains served over a real gRPC unix socket from client chains ending in the
// registry connect elements: unary calls with metadata both ways, Find streaming, watch ending on
// cancel, errors and dead servers.
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "reference/sdk/grpc/registry_client.h"
#include "reference/sdk/grpc/registry_server.h"

namespace nsmcert::sdk {
namespace {

using registry::NetworkService;
using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using registry::NetworkServiceEndpointResponse;
using registry::NetworkServiceQuery;
using registry::NetworkServiceResponse;

// A tiny server-side store: Register keeps the endpoint (refusing the name "bad"), Find sends
// every stored one, and a watch Find then waits for the context to be cancelled.
class FakeNseStore : public NseRegistryElement {
 public:
  std::atomic<bool> watch_ended{false};
  std::atomic<int> watchers{0};

  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    if (nse.name() == "bad")
      return absl::InvalidArgumentError("network_service_endpoint.name: bad");
    nse.set_url(nse.url() + "#" + ctx.IncomingValue("path"));
    ctx.response_headers().emplace("path", "from-server");
    std::lock_guard lock(mu_);
    stored_[nse.name()] = nse;
    return next.Register(ctx, nse);
  }
  absl::Status Find(Context& ctx, const NetworkServiceEndpointQuery& query, NseFindSink& sink,
                    const NseRegistryNext& next) override {
    std::vector<NetworkServiceEndpoint> all;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, nse] : stored_) all.push_back(nse);
    }
    ctx.response_headers().emplace("x-find", "yes");
    for (const auto& nse : all) {
      NetworkServiceEndpointResponse r;
      *r.mutable_network_service_endpoint() = nse;
      if (auto s = sink.Send(r); !s.ok()) return s;
    }
    if (query.watch()) {
      ++watchers;
      while (!ctx.WaitCancelled(absl::Milliseconds(20))) {
      }
      watch_ended = true;
      return absl::OkStatus();
    }
    return next.Find(ctx, query, sink);
  }
  absl::Status Unregister(Context& ctx, NetworkServiceEndpoint& nse,
                          const NseRegistryNext& next) override {
    std::lock_guard lock(mu_);
    if (stored_.erase(nse.name()) == 0) return absl::NotFoundError("no such endpoint");
    return next.Unregister(ctx, nse);
  }

 private:
  std::mutex mu_;
  std::map<std::string, NetworkServiceEndpoint> stored_;
};

class FakeNsStore : public NsRegistryElement {
 public:
  absl::StatusOr<NetworkService> Register(Context& ctx, NetworkService& ns,
                                          const NsRegistryNext& next) override {
    if (ns.payload().empty()) ns.set_payload("IP");
    last_ = ns;
    return next.Register(ctx, ns);
  }
  absl::Status Find(Context& ctx, const NetworkServiceQuery& query, NsFindSink& sink,
                    const NsRegistryNext& next) override {
    NetworkServiceResponse r;
    *r.mutable_network_service() = last_;
    if (auto s = sink.Send(r); !s.ok()) return s;
    return next.Find(ctx, query, sink);
  }
  absl::Status Unregister(Context& ctx, NetworkService& ns, const NsRegistryNext& next) override {
    unregistered_ = ns.name();
    return next.Unregister(ctx, ns);
  }
  NetworkService last_;
  std::string unregistered_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-reg-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class RegistryGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nse_store_ = std::make_shared<FakeNseStore>();
    ns_store_ = std::make_shared<FakeNsStore>();
    nse_service_ = std::make_unique<NseRegistryGrpcServer>(nse_store_);
    ns_service_ = std::make_unique<NsRegistryGrpcServer>(ns_store_);
    url_ = "unix://" + dir_.path() + "/registry.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_.path() + "/registry.sock",
                             grpc::InsecureServerCredentials());
    builder.RegisterService(nse_service_.get());
    builder.RegisterService(ns_service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto pool = std::make_shared<ChannelPool>();
    auto nse_chain = NseRegistryChain::Make({std::make_shared<NseRegistryGrpcClient>(pool)});
    auto ns_chain = NsRegistryChain::Make({std::make_shared<NsRegistryGrpcClient>(pool)});
    ASSERT_TRUE(nse_chain.ok() && ns_chain.ok());
    nse_client_ = *nse_chain;
    ns_client_ = *ns_chain;
  }
  void TearDown() override {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  }

  Context ClientContext() {
    Context ctx;
    ctx.values().GetOrCreate<ClientUrl>()->url = url_;
    ctx.set_deadline(absl::Now() + absl::Seconds(5));
    return ctx;
  }

  TempDir dir_;
  std::string url_;
  std::shared_ptr<FakeNseStore> nse_store_;
  std::shared_ptr<FakeNsStore> ns_store_;
  std::unique_ptr<NseRegistryGrpcServer> nse_service_;
  std::unique_ptr<NsRegistryGrpcServer> ns_service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<NseRegistryChain> nse_client_;
  std::shared_ptr<NsRegistryChain> ns_client_;
};

std::string Header(const Metadata& md, const std::string& key) {
  auto it = md.find(key);
  return it == md.end() ? "<absent>" : it->second;
}

TEST_F(RegistryGrpcTest, RegisterCarriesMetadataBothWaysAndReturnsTheServersReply) {
  Context ctx = ClientContext();
  ctx.outgoing_metadata().emplace("path", "from-client");
  NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  nse.set_url("tcp://10.0.0.1:5001");
  auto reply = nse_client_->Register(ctx, nse);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->url(), "tcp://10.0.0.1:5001#from-client");
  EXPECT_EQ(Header(ctx.response_metadata(), "path"), "from-server");
}

TEST_F(RegistryGrpcTest, NonWatchFindStreamsAllAndEnds) {
  for (const char* name : {"a", "b", "c"}) {
    Context ctx = ClientContext();
    NetworkServiceEndpoint nse;
    nse.set_name(name);
    ASSERT_TRUE(nse_client_->Register(ctx, nse).ok());
  }
  Context ctx = ClientContext();
  std::vector<std::string> names;
  FunctionSink<NetworkServiceEndpointResponse> sink([&](const auto& r) {
    names.push_back(r.network_service_endpoint().name());
    return absl::OkStatus();
  });
  ASSERT_TRUE(nse_client_->Find(ctx, NetworkServiceEndpointQuery(), sink).ok());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Header(ctx.response_metadata(), "x-find"), "yes");
}

TEST_F(RegistryGrpcTest, FindWithoutMatchesStillSendsHeaders) {
  Context ctx = ClientContext();
  FunctionSink<NetworkServiceEndpointResponse> sink([](const auto&) { return absl::OkStatus(); });
  ASSERT_TRUE(nse_client_->Find(ctx, NetworkServiceEndpointQuery(), sink).ok());
  EXPECT_EQ(Header(ctx.response_metadata(), "x-find"), "yes");
}

TEST_F(RegistryGrpcTest, WatchRunsUntilTheCallerCancelsAndTheServerNotices) {
  Context setup = ClientContext();
  NetworkServiceEndpoint nse;
  nse.set_name("a");
  ASSERT_TRUE(nse_client_->Register(setup, nse).ok());

  Context ctx;
  ctx.values().GetOrCreate<ClientUrl>()->url = url_;
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  std::mutex mu;
  std::condition_variable cv;
  int received = 0;
  FunctionSink<NetworkServiceEndpointResponse> sink([&](const auto&) {
    std::lock_guard lock(mu);
    ++received;
    cv.notify_all();
    return absl::OkStatus();
  });
  absl::Status result = absl::UnknownError("not finished");
  std::thread watcher([&] { result = nse_client_->Find(ctx, query, sink); });
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(5), [&] { return received == 1; }));
  }
  ctx.Cancel();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result;
  // The server's cancel probe sees the client go away and the store's watch returns.
  for (int i = 0; i < 250 && !nse_store_->watch_ended; ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(nse_store_->watch_ended);
}

TEST_F(RegistryGrpcTest, ACancelledWatchReturnsAtOnce) {
  Context ctx;
  ctx.values().GetOrCreate<ClientUrl>()->url = url_;
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  FunctionSink<NetworkServiceEndpointResponse> sink([](const auto&) { return absl::OkStatus(); });
  absl::Status result = absl::UnknownError("not finished");
  absl::Time returned;
  std::thread watcher([&] {
    result = nse_client_->Find(ctx, query, sink);
    returned = absl::Now();
  });
  for (int i = 0; i < 250 && nse_store_->watchers == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(nse_store_->watchers, 1);
  absl::Time cancelled = absl::Now();
  ctx.Cancel();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_LT(returned - cancelled, absl::Milliseconds(100));
}

TEST_F(RegistryGrpcTest, AWatchForAContextWithOnlyAProbeEndsWhenTheProbeFires) {
  // As when a server proxies a caller's watch: the caller going away is only seen by the probe.
  Context ctx;
  ctx.values().GetOrCreate<ClientUrl>()->url = url_;
  std::atomic<bool> gone = false;
  ctx.set_cancel_probe([&] { return gone.load(); });
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  FunctionSink<NetworkServiceEndpointResponse> sink([](const auto&) { return absl::OkStatus(); });
  absl::Status result = absl::UnknownError("not finished");
  std::atomic<bool> done = false;
  std::thread watcher([&] {
    result = nse_client_->Find(ctx, query, sink);
    done = true;
  });
  for (int i = 0; i < 250 && nse_store_->watchers == 0; ++i) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(nse_store_->watchers, 1);
  gone = true;
  for (int i = 0; i < 250 && !done; ++i) absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(done);
  watcher.join();
  EXPECT_TRUE(result.ok()) << result;
}

TEST_F(RegistryGrpcTest, ASinkErrorCancelsTheStreamAndIsReturned) {
  for (const char* name : {"a", "b"}) {
    Context ctx = ClientContext();
    NetworkServiceEndpoint nse;
    nse.set_name(name);
    ASSERT_TRUE(nse_client_->Register(ctx, nse).ok());
  }
  Context ctx = ClientContext();
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  FunctionSink<NetworkServiceEndpointResponse> sink(
      [](const auto&) { return absl::AbortedError("enough"); });
  absl::Status status = nse_client_->Find(ctx, query, sink);
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
}

TEST_F(RegistryGrpcTest, ErrorsKeepTheirCodeAndNameTheRegistry) {
  Context ctx = ClientContext();
  NetworkServiceEndpoint nse;
  nse.set_name("bad");
  auto reply = nse_client_->Register(ctx, nse);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reply.status().message().find("network_service_endpoint.name"), std::string::npos);
  EXPECT_NE(reply.status().message().find(url_), std::string::npos);

  Context ctx2 = ClientContext();
  NetworkServiceEndpoint missing;
  missing.set_name("missing");
  EXPECT_EQ(nse_client_->Unregister(ctx2, missing).code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryGrpcTest, NetworkServiceRegistryRoundTrip) {
  Context ctx = ClientContext();
  NetworkService ns;
  ns.set_name("icmp");
  auto reply = ns_client_->Register(ctx, ns);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "IP");

  Context find_ctx = ClientContext();
  std::vector<std::string> names;
  FunctionSink<NetworkServiceResponse> sink([&](const auto& r) {
    names.push_back(r.network_service().name());
    return absl::OkStatus();
  });
  ASSERT_TRUE(ns_client_->Find(find_ctx, NetworkServiceQuery(), sink).ok());
  EXPECT_EQ(names, std::vector<std::string>{"icmp"});

  Context unregister_ctx = ClientContext();
  ASSERT_TRUE(ns_client_->Unregister(unregister_ctx, *reply).ok());
  EXPECT_EQ(ns_store_->unregistered_, "icmp");
}

TEST_F(RegistryGrpcTest, NoClientUrlIsAFailedPrecondition) {
  Context ctx;
  NetworkServiceEndpoint nse;
  EXPECT_EQ(nse_client_->Register(ctx, nse).status().code(), absl::StatusCode::kFailedPrecondition);
  FunctionSink<NetworkServiceResponse> sink([](const auto&) { return absl::OkStatus(); });
  EXPECT_EQ(ns_client_->Find(ctx, NetworkServiceQuery(), sink).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistryGrpcTest, DeadServerIsUnavailable) {
  server_->Shutdown();
  Context ctx = ClientContext();
  ctx.set_deadline(absl::Now() + absl::Milliseconds(300));
  NetworkServiceEndpoint nse;
  nse.set_name("a");
  auto reply = nse_client_->Register(ctx, nse);
  EXPECT_TRUE(reply.status().code() == absl::StatusCode::kUnavailable ||
              reply.status().code() == absl::StatusCode::kDeadlineExceeded)
      << reply.status();
}

}  // namespace
}  // namespace nsmcert::sdk
