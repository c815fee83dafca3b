// Drives a chain served over a real gRPC unix socket from a client chain ending in the connect
// element: requests, metadata in both directions, errors and deadlines cross the wire intact.
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "reference/sdk/grpc/network_service_client.h"
#include "reference/sdk/grpc/network_service_server.h"

namespace nsmcert::sdk {
namespace {

// Server-side element: echoes the incoming token metadata into a label, sets a response header,
// and refuses network service "bad".
class Endpoint : public NetworkServiceElement {
 public:
  int closes = 0;
  absl::Duration seen_remaining = absl::InfiniteDuration();
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    if (request.connection().network_service() == "bad") {
      return absl::NotFoundError("network service bad is not found");
    }
    seen_remaining = ctx.Remaining();
    (*request.mutable_connection()->mutable_labels())["token"] =
        ctx.IncomingValue("nsm-client-token");
    ctx.response_headers().emplace("x-served-by", "endpoint");
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    ++closes;
    return next.Close(ctx, conn);
  }
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-grpc-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

class NetworkServiceGrpcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = std::make_shared<Endpoint>();
    service_ = std::make_unique<NetworkServiceGrpcServer>(endpoint_);
    url_ = "unix://" + dir_.path() + "/nsm.sock";
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + dir_.path() + "/nsm.sock",
                             grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    auto chain = NetworkServiceChain::Make(
        {std::make_shared<NetworkServiceGrpcClient>(std::make_shared<ChannelPool>())});
    ASSERT_TRUE(chain.ok());
    client_ = *chain;
  }
  void TearDown() override { server_->Shutdown(); }

  Context ClientContext() {
    Context ctx;
    ctx.values().GetOrCreate<ClientUrl>()->url = url_;
    ctx.outgoing_metadata().emplace("nsm-client-token", "jwt-1");
    ctx.set_deadline(absl::Now() + absl::Seconds(5));
    return ctx;
  }

  TempDir dir_;
  std::string url_;
  std::shared_ptr<Endpoint> endpoint_;
  std::unique_ptr<NetworkServiceGrpcServer> service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<NetworkServiceChain> client_;
};

TEST_F(NetworkServiceGrpcTest, RequestCrossesTheWireWithMetadataAndDeadline) {
  Context ctx = ClientContext();
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c-1");
  request.mutable_connection()->set_network_service("svc");
  auto conn = client_->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->id(), "c-1");
  EXPECT_EQ(conn->labels().at("token"), "jwt-1");
  EXPECT_LE(endpoint_->seen_remaining, absl::Seconds(5));
  EXPECT_GT(endpoint_->seen_remaining, absl::Seconds(1));
  auto header = ctx.response_metadata().find("x-served-by");
  ASSERT_NE(header, ctx.response_metadata().end());
  EXPECT_EQ(header->second, "endpoint");
}

TEST_F(NetworkServiceGrpcTest, ErrorsKeepTheirCodeAndMessage) {
  Context ctx = ClientContext();
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_network_service("bad");
  auto conn = client_->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(conn.status().message().find("network service bad is not found"), std::string::npos);
  EXPECT_NE(conn.status().message().find(url_), std::string::npos);
}

TEST_F(NetworkServiceGrpcTest, CloseReachesTheServer) {
  Context ctx = ClientContext();
  connection::Connection conn;
  conn.set_id("c-1");
  ASSERT_TRUE(client_->Close(ctx, conn).ok());
  EXPECT_EQ(endpoint_->closes, 1);
}

TEST_F(NetworkServiceGrpcTest, NoClientUrlIsAFailedPrecondition) {
  Context ctx;
  networkservice::NetworkServiceRequest request;
  EXPECT_EQ(client_->Request(ctx, request).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(NetworkServiceGrpcTest, DeadServerIsUnavailable) {
  server_->Shutdown();
  Context ctx = ClientContext();
  ctx.set_deadline(absl::Now() + absl::Milliseconds(300));
  networkservice::NetworkServiceRequest request;
  auto conn = client_->Request(ctx, request);
  EXPECT_FALSE(conn.ok());
  EXPECT_TRUE(conn.status().code() == absl::StatusCode::kUnavailable ||
              conn.status().code() == absl::StatusCode::kDeadlineExceeded)
      << conn.status();
}

}  // namespace
}  // namespace nsmcert::sdk
