#include "reference/sdk/daemon/grpc_daemon.h"

#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "grpc_health.grpc.pb.h"
#include "networkservice.grpc.pb.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::sdk::daemon {
namespace {

// A daemon always serves something; gRPC needs at least one synchronous service to run the
// built-in health service synchronously.
networkservice::NetworkService::Service* AnyService() {
  static auto* service = new networkservice::NetworkService::Service();
  return service;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-daemon-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

grpc::health::v1::HealthCheckResponse::ServingStatus Check(const std::string& target,
                                                           const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  grpc::Status s = stub->Check(&ctx, req, &resp);
  if (!s.ok()) return grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN;
  return resp.status();
}

TEST(GrpcDaemon, ListensOnUnixAndTcpPortZeroReportsAndServesHealth) {
  TempDir dir;
  std::string sock = dir.path() + "/sub/nsm.sock";
  std::string report = dir.path() + "/listen";
  setenv("NSMCERT_LISTEN_REPORT", report.c_str(), 1);
  auto daemon = GrpcDaemon::Create({"unix://" + sock, "tcp://127.0.0.1:0"});
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  (*daemon)->builder().RegisterService(AnyService());
  ASSERT_TRUE((*daemon)->Start().ok());
  unsetenv("NSMCERT_LISTEN_REPORT");

  const auto& bound = (*daemon)->bound_urls();
  ASSERT_EQ(bound.size(), 2u);
  EXPECT_EQ(bound[0], "unix://" + sock);
  ASSERT_TRUE(bound[1].starts_with("tcp://127.0.0.1:"));
  EXPECT_NE(bound[1], "tcp://127.0.0.1:0");
  EXPECT_EQ((*daemon)->PublicUrl(), bound[1]);

  std::ifstream in(report);
  std::string line1, line2;
  std::getline(in, line1);
  std::getline(in, line2);
  EXPECT_EQ(line1, bound[0]);
  EXPECT_EQ(line2, bound[1]);

  std::string service(api::service::kNetworkServiceRegistry);
  (*daemon)->SetServing({service}, true);
  std::string tcp_target = bound[1].substr(std::string("tcp://").size());
  EXPECT_EQ(Check("unix:" + sock, service), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(tcp_target, service), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_EQ(Check(tcp_target, ""), grpc::health::v1::HealthCheckResponse::SERVING);

  (*daemon)->Shutdown();
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST(GrpcDaemon, ReplacesAStaleSocketFile) {
  TempDir dir;
  std::string sock = dir.path() + "/stale.sock";
  std::ofstream(sock) << "left over";
  auto daemon = GrpcDaemon::Create({"unix://" + sock});
  ASSERT_TRUE(daemon.ok());
  (*daemon)->builder().RegisterService(AnyService());
  ASSERT_TRUE((*daemon)->Start().ok());
  EXPECT_EQ((*daemon)->PublicUrl(), "unix://" + sock);  // no tcp URL: the first one
  (*daemon)->SetServing({}, true);
  EXPECT_EQ(Check("unix:" + sock, ""), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST(GrpcDaemon, RejectsBadListenUrls) {
  EXPECT_FALSE(GrpcDaemon::Create({}).ok());
  auto bad = GrpcDaemon::Create({"http://x:1"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("http://x:1"), std::string::npos);
  EXPECT_FALSE(GrpcDaemon::Create({"inode://1/2"}).ok());
}

TEST(GrpcDaemon, WildcardHostIsReplacedInThePublicUrl) {
  auto daemon = GrpcDaemon::Create({"tcp://:0"});
  ASSERT_TRUE(daemon.ok());
  (*daemon)->builder().RegisterService(AnyService());
  ASSERT_TRUE((*daemon)->Start().ok());
  std::string url = (*daemon)->PublicUrl();
  EXPECT_TRUE(url.starts_with("tcp://")) << url;
  EXPECT_EQ(url.find("tcp://:"), std::string::npos) << url;
  EXPECT_EQ(url.find("0.0.0.0"), std::string::npos) << url;
}

}  // namespace
}  // namespace nsmcert::sdk::daemon
