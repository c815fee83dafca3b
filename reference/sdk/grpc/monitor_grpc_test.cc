// Serves a ConnectionMonitor over a real gRPC unix socket and follows it with the client stream:
// initial transfer, events, selectors, cancel and server stop cross the wire as spec 7 says.
#include <dirent.h>
#include <grpcpp/client_context.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/clienturl.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/monitor_client.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_client.h"
#include "reference/sdk/grpc/network_service_server.h"

namespace nsmcert::sdk {
namespace {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-monitor-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

connection::Connection Conn(const std::string& id, const std::string& service) {
  connection::Connection conn;
  conn.set_id(id);
  conn.set_network_service(service);
  auto* seg = conn.mutable_path()->add_path_segments();
  seg->set_name("nsc");
  seg->set_id(id);
  return conn;
}

class MonitorGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    monitor_ = std::make_shared<ConnectionMonitor>();
    service_ = std::make_unique<MonitorConnectionGrpcServer>(monitor_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_.path() + "/monitor.sock",
                             grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    channels_ = std::make_shared<ChannelPool>();
  }
  void TearDown() override {
    service_->Stop();
    server_->Shutdown();
  }
  std::string url() const { return "unix://" + dir_.path() + "/monitor.sock"; }

  std::unique_ptr<ConnectionEventStream> Open(const connection::MonitorScopeSelector& selector) {
    auto stream = GrpcConnectionEventStreamOpener(channels_)(url(), selector);
    EXPECT_TRUE(stream.ok()) << stream.status();
    return stream.ok() ? *std::move(stream) : nullptr;
  }

  TempDir dir_;
  std::shared_ptr<ConnectionMonitor> monitor_;
  std::unique_ptr<MonitorConnectionGrpcServer> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<ChannelPool> channels_;
};

TEST_F(MonitorGrpcTest, InitialTransferThenMatchingEvents) {
  monitor_->Update(Conn("a", "svc"));
  monitor_->Update(Conn("b", "other"));
  connection::MonitorScopeSelector selector;
  selector.add_network_services("svc");
  auto stream = Open(selector);
  ASSERT_NE(stream, nullptr);

  auto initial = stream->Next();
  ASSERT_TRUE(initial.ok()) << initial.status();
  EXPECT_EQ(initial->type(), connection::INITIAL_STATE_TRANSFER);
  ASSERT_EQ(initial->connections().size(), 1u);
  EXPECT_TRUE(initial->connections().contains("a"));

  monitor_->Update(Conn("c", "other"));  // not selected
  monitor_->Delete(Conn("a", "svc"));
  auto deleted = stream->Next();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->type(), connection::DELETE);
  EXPECT_TRUE(deleted->connections().contains("a"));
}

TEST_F(MonitorGrpcTest, InitialTransferWithNothingSelectedIsEmpty) {
  connection::MonitorScopeSelector selector;
  selector.add_path_segments()->set_id("nobody");
  auto stream = Open(selector);
  auto initial = stream->Next();
  ASSERT_TRUE(initial.ok());
  EXPECT_EQ(initial->type(), connection::INITIAL_STATE_TRANSFER);
  EXPECT_TRUE(initial->connections().empty());
}

TEST_F(MonitorGrpcTest, CancelEndsTheStreamAndTheServerLetsGo) {
  auto stream = Open({});
  ASSERT_TRUE(stream->Next().ok());
  std::thread canceller([&] { stream->Cancel(); });
  auto after = stream->Next();  // blocked until the cancel lands
  canceller.join();
  EXPECT_EQ(after.status().code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(stream->Next().status().code(), absl::StatusCode::kCancelled);
  stream.reset();
  // The handler notices the cancelled call and unsubscribes.
  for (int i = 0; i < 200 && monitor_->subscriber_count() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(monitor_->subscriber_count(), 0u);
}

TEST_F(MonitorGrpcTest, StoppingTheServerEndsTheStream) {
  auto stream = Open({});
  ASSERT_TRUE(stream->Next().ok());
  service_->Stop();
  auto after = stream->Next();
  EXPECT_EQ(after.status().code(), absl::StatusCode::kUnavailable);
}

// What a raw gRPC client sees: the exact status a stream ends with.
class RawStream {
 public:
  RawStream(const std::string& url, const connection::MonitorScopeSelector& selector = {})
      : stub_(connection::MonitorConnection::NewStub(
            grpc::CreateChannel(url, grpc::InsecureChannelCredentials()))) {
    context_.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    reader_ = stub_->MonitorConnections(&context_, selector);
  }
  bool Read(connection::ConnectionEvent* event) { return reader_->Read(event); }
  // Reads until the stream ends; returns how many events came and the final status.
  std::pair<int, grpc::Status> Drain() {
    connection::ConnectionEvent event;
    int n = 0;
    while (reader_->Read(&event)) ++n;
    return {n, reader_->Finish()};
  }
  void Cancel() { context_.TryCancel(); }

 private:
  std::unique_ptr<connection::MonitorConnection::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<connection::ConnectionEvent>> reader_;
};

bool WaitForSubscribers(const ConnectionMonitor& monitor, size_t n, absl::Duration timeout) {
  absl::Time until = absl::Now() + timeout;
  while (monitor.subscriber_count() != n) {
    if (absl::Now() > until) return false;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return true;
}

int ThreadCount() {
  int n = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* entry = readdir(dir)) n += entry->d_name[0] != '.';
    closedir(dir);
  }
  return n;
}

TEST_F(MonitorGrpcTest, ACancelledStreamUnsubscribesWithin100Ms) {
  RawStream stream(url());
  connection::ConnectionEvent initial;
  ASSERT_TRUE(stream.Read(&initial));
  EXPECT_EQ(monitor_->subscriber_count(), 1u);
  stream.Cancel();
  EXPECT_TRUE(WaitForSubscribers(*monitor_, 0, absl::Milliseconds(100)));
}

TEST_F(MonitorGrpcTest, StopEndsAnOpenStreamWithOkAndRefusesNewOnes) {
  monitor_->Update(Conn("a", "svc"));
  RawStream open(url());
  connection::ConnectionEvent initial;
  ASSERT_TRUE(open.Read(&initial));
  EXPECT_EQ(initial.type(), connection::INITIAL_STATE_TRANSFER);
  service_->Stop();
  auto [events, status] = open.Drain();
  EXPECT_EQ(events, 0);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(WaitForSubscribers(*monitor_, 0, absl::Milliseconds(100)));

  RawStream refused(url());
  auto [refused_events, refused_status] = refused.Drain();
  EXPECT_EQ(refused_events, 0);
  EXPECT_EQ(refused_status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(MonitorGrpcTest, MonitorShutdownEndsTheStreamWithOk) {
  RawStream stream(url());
  connection::ConnectionEvent initial;
  ASSERT_TRUE(stream.Read(&initial));
  monitor_->Update(Conn("a", "svc"));
  monitor_->Shutdown();
  auto [events, status] = stream.Drain();
  EXPECT_EQ(events, 1);  // what was queued before the shutdown still arrives
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(MonitorGrpcTest, EventsArriveInOrderWithOneWriteInFlight) {
  RawStream stream(url());
  connection::ConnectionEvent event;
  ASSERT_TRUE(stream.Read(&event));
  constexpr int kEvents = 500;
  std::thread publisher([&] {
    for (int i = 0; i < kEvents; ++i) monitor_->Update(Conn(absl::StrCat("c", i), "svc"));
  });
  for (int i = 0; i < kEvents; ++i) {
    ASSERT_TRUE(stream.Read(&event));
    ASSERT_EQ(event.type(), connection::UPDATE);
    ASSERT_TRUE(event.connections().contains(absl::StrCat("c", i))) << i;
  }
  publisher.join();
}

TEST_F(MonitorGrpcTest, ASubscriberThatStopsReadingIsEndedWithResourceExhausted) {
  RawStream stream(url());
  connection::ConnectionEvent initial;
  ASSERT_TRUE(stream.Read(&initial));
  // Far more than the transport buffers and the subscription's queue hold while nobody reads.
  connection::Connection big = Conn("big", "svc");
  big.mutable_context()->mutable_extra_context()->insert({"pad", std::string(4096, 'x')});
  for (size_t i = 0; i < 4 * ConnectionMonitor::kMaxQueuedEvents; ++i) monitor_->Update(big);
  auto [events, status] = stream.Drain();
  EXPECT_GT(events, 0);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(WaitForSubscribers(*monitor_, 0, absl::Milliseconds(100)));
}

TEST_F(MonitorGrpcTest, OpenStreamsHoldNoThreadEach) {
  std::vector<std::unique_ptr<RawStream>> streams;
  for (int i = 0; i < 5; ++i) {  // warm up gRPC's own threads
    streams.push_back(std::make_unique<RawStream>(url()));
    connection::ConnectionEvent initial;
    ASSERT_TRUE(streams.back()->Read(&initial));
  }
  int before = ThreadCount();
  constexpr int kStreams = 50;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::make_unique<RawStream>(url()));
    connection::ConnectionEvent initial;
    ASSERT_TRUE(streams.back()->Read(&initial));
  }
  EXPECT_TRUE(WaitForSubscribers(*monitor_, kStreams + 5, absl::Seconds(1)));
  EXPECT_LT(ThreadCount() - before, kStreams / 2);
  monitor_->Update(Conn("a", "svc"));
  for (auto& stream : streams) {
    connection::ConnectionEvent event;
    ASSERT_TRUE(stream->Read(&event));
    EXPECT_TRUE(event.connections().contains("a"));
  }
}

TEST_F(MonitorGrpcTest, AnUnreachableServerIsAnError) {
  auto stream = GrpcConnectionEventStreamOpener(channels_)(
      "unix://" + dir_.path() + "/nobody-listens.sock", {});
  ASSERT_TRUE(stream.ok());
  EXPECT_EQ((*stream)->Next().status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(MonitorGrpcTest, ABadUrlIsRejected) {
  auto stream = GrpcConnectionEventStreamOpener(channels_)("http://x", {});
  EXPECT_EQ(stream.status().code(), absl::StatusCode::kInvalidArgument);
}

// DOWN propagation over the wire: a hop follows its next hop's monitor with MonitorClient and
// republishes what happens there (spec 7 "Propagation", scenario E.46).
class DownPropagationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto chain = NetworkServiceChain::Make({std::make_shared<UpdatePath>("nse"), nse_begin_,
                                            std::make_shared<MonitorServer>(nse_monitor_)});
    ASSERT_TRUE(chain.ok());
    nse_chain_ = *chain;
    network_service_ = std::make_unique<NetworkServiceGrpcServer>(nse_chain_);
    monitor_service_ = std::make_unique<MonitorConnectionGrpcServer>(nse_monitor_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_.path() + "/nse.sock",
                             grpc::InsecureServerCredentials());
    builder.RegisterService(network_service_.get());
    builder.RegisterService(monitor_service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);

    auto channels = std::make_shared<ChannelPool>();
    follower_ =
        std::make_shared<MonitorClient>(hop_monitor_, GrpcConnectionEventStreamOpener(channels));
    auto hop = NetworkServiceChain::Make(
        {std::make_shared<UpdatePath>("fwd"), std::make_shared<Begin>(),
         std::make_shared<ClientUrlElement>("unix://" + dir_.path() + "/nse.sock"), follower_,
         std::make_shared<NetworkServiceGrpcClient>(channels)});
    ASSERT_TRUE(hop.ok());
    hop_chain_ = *hop;
    subscription_ = hop_monitor_->Subscribe({});
    ASSERT_TRUE(subscription_->Next(absl::Seconds(5)).has_value());
  }
  void TearDown() override {
    if (server_) {
      monitor_service_->Stop();
      server_->Shutdown();
    }
  }

  // Waits for the hop's monitor to report its connection with `state`.
  bool SawState(const std::string& id, connection::State state) {
    for (int i = 0; i < 100; ++i) {
      auto event = subscription_->Next(absl::Milliseconds(100));
      if (event.has_value() && event->connections().contains(id) &&
          event->connections().at(id).state() == state) {
        return true;
      }
    }
    return false;
  }

  TempDir dir_;
  std::shared_ptr<ConnectionMonitor> nse_monitor_ = std::make_shared<ConnectionMonitor>();
  std::shared_ptr<ConnectionMonitor> hop_monitor_ = std::make_shared<ConnectionMonitor>();
  std::shared_ptr<Begin> nse_begin_ = std::make_shared<Begin>();
  std::shared_ptr<NetworkServiceChain> nse_chain_;
  std::unique_ptr<NetworkServiceGrpcServer> network_service_;
  std::unique_ptr<MonitorConnectionGrpcServer> monitor_service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<MonitorClient> follower_;
  std::shared_ptr<NetworkServiceChain> hop_chain_;
  std::unique_ptr<MonitorSubscription> subscription_;
};

TEST_F(DownPropagationTest, TheNextHopClosingTheConnectionIsSeenAsDown) {
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = hop_chain_->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(follower_->following(), 1u);
  // The NSE closes its side on its own (as its timeout would).
  auto nse_view = nse_monitor_->Connections();
  ASSERT_EQ(nse_view.size(), 1u);
  Context nse_ctx;
  connection::Connection nse_conn = nse_view.begin()->second;
  nse_conn.mutable_path()->set_index(0);
  nse_conn.set_id(nse_conn.path().path_segments(0).id());
  ASSERT_TRUE(nse_chain_->Close(nse_ctx, nse_conn).ok());
  EXPECT_TRUE(SawState(conn->id(), connection::DOWN));
  Context close_ctx;
  ASSERT_TRUE(hop_chain_->Close(close_ctx, *conn).ok());
}

TEST_F(DownPropagationTest, ANextHopThatGoesAwayIsSeenAsDown) {
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = hop_chain_->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  monitor_service_->Stop();
  server_->Shutdown();
  server_.reset();
  nse_begin_->Abandon();  // the NSE process is gone with its state
  EXPECT_TRUE(SawState(conn->id(), connection::DOWN));
  // The hop's own Close still clears its state although the next hop is gone.
  Context close_ctx;
  EXPECT_FALSE(hop_chain_->Close(close_ctx, *conn).ok());
  EXPECT_EQ(follower_->following(), 0u);
}

TEST_F(DownPropagationTest, TheHopsOwnCloseIsNotReportedAsDown) {
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = hop_chain_->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  Context close_ctx;
  ASSERT_TRUE(hop_chain_->Close(close_ctx, *conn).ok());
  EXPECT_FALSE(subscription_->Next(absl::Milliseconds(200)).has_value());
  EXPECT_TRUE(nse_monitor_->Connections().empty());
}

}  // namespace
}  // namespace nsmcert::sdk
