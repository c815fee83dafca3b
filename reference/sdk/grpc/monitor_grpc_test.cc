// Serves a ConnectionMonitor over a real gRPC unix socket and follows it with the client stream:
// initial transfer, events, selectors, cancel and server stop cross the wire as spec 7 says.
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/monitor_server.h"

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

}  // namespace
}  // namespace nsmcert::sdk
