// The nsmcert-nsmgr binary: `--help`, configuration errors, and a daemon with its registries in
// memory (NSM_REGISTRY_URL set but empty) driven over gRPC: health of its four services, an
// endpoint registration with the local URL kept away from the store, a refused request, and a
// clean exit on SIGTERM that removes its socket.
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpc_health.grpc.pb.h"
#include "networkservice.grpc.pb.h"
#include "reference/sdk/daemon/testing/daemon_child.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"
#include "registry.grpc.pb.h"

namespace nsmcert::nsmgr {
namespace {

namespace fs = std::filesystem;
using sdk::testing::ReadFile;

// The daemon binary under test as a child process (sdk/daemon/testing/daemon_child.h), its stdout
// and stderr kept in `dir`.
class Process : public sdk::testing::DaemonChild {
 public:
  Process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const fs::path& dir)
      : DaemonChild(NSMCERT_NSMGR_BINARY, args, env, (dir / "stdout").string(),
                    (dir / "stderr").string()),
        dir_(dir) {}
  std::string out() const { return ReadFile((dir_ / "stdout").string()); }
  std::string err() const { return ReadFile((dir_ / "stderr").string()); }

 private:
  fs::path dir_;
};

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
}

// The per-RPC token of a caller with identity `id` (HS256: the nsmgr reads, not verifies, it).
void AddToken(grpc::ClientContext& ctx, const std::string& id) {
  const absl::Time expires = absl::Now() + absl::Minutes(10);
  sdk::tools::JwtClaims claims;
  claims.subject = id;
  claims.expires_at = expires;
  ctx.AddMetadata("nsm-client-token", *sdk::tools::SignJwtHs256(claims, "secret"));
  ctx.AddMetadata("nsm-client-token-expires", sdk::tools::FormatRfc3339Nano(expires));
}

class NsmgrDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(temp_.path().empty()); }
  void TearDown() override {
    if (HasFailure() && daemon_) std::cerr << "daemon stderr:\n" << daemon_->err();
    daemon_.reset();
  }

  // Starts the daemon with its registries in memory; returns its bound URLs.
  std::vector<std::string> StartInMemory() {
    socket_ = (dir_ / "run" / "nsm.io.sock").string();
    const fs::path report = dir_ / "listen";
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{},
        std::map<std::string, std::string>{
            {"NSM_NAME", "nsmgr-test"},
            {"NSM_LISTEN_ON", "unix://" + socket_ + ",tcp://127.0.0.1:0"},
            {"NSM_REGISTRY_URL", ""},
            {"NSM_EXCLUDED_PREFIXES_PATH", (dir_ / "excluded_prefixes.yaml").string()},
            {"NSM_LOG_LEVEL", "DEBUG"},
            {"NSMCERT_LISTEN_REPORT", report.string()}},
        dir_);
    std::vector<std::string> urls;
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (urls.size() < 2 && absl::Now() < until && daemon_->Alive()) {
      std::istringstream in(ReadFile(report.string()));
      urls.clear();
      for (std::string line; std::getline(in, line);) urls.push_back(line);
      if (urls.size() < 2) absl::SleepFor(absl::Milliseconds(20));
    }
    channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
    return urls;
  }

  sdk::testing::TempDir temp_{"nsmgr-daemon"};
  const fs::path dir_ = temp_.path();
  std::string socket_;
  std::unique_ptr<Process> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(NsmgrDaemonTest, HelpListsTheEnvironment) {
  Process help({"--help"}, {}, dir_);
  EXPECT_EQ(help.Wait(absl::Seconds(20)), 0);
  const std::string text = help.out();
  for (const char* var : {"NSM_NAME", "NSM_LISTEN_ON", "NSM_REGISTRY_URL", "NSM_MAX_TOKEN_LIFETIME",
                          "NSM_DIAL_TIMEOUT", "NSM_FORWARDER_NETWORK_SERVICE_NAME",
                          "NSM_EXCLUDED_PREFIXES_PATH", "NSM_LOG_LEVEL", "NODE_NAME"}) {
    EXPECT_NE(text.find(var), std::string::npos) << var;
  }
}

TEST_F(NsmgrDaemonTest, BadConfigurationNamesTheVariable) {
  Process bad({}, {{"NSM_REGISTRY_URL", "ftp://registry:5002"}}, dir_);
  const int status = bad.Wait(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(bad.err().find("NSM_REGISTRY_URL"), std::string::npos) << bad.err();
}

TEST_F(NsmgrDaemonTest, ServesInMemoryAndStopsCleanly) {
  const std::vector<std::string> urls = StartInMemory();
  ASSERT_EQ(urls.size(), 2u) << daemon_->err();
  ASSERT_TRUE(urls[1].starts_with("tcp://127.0.0.1:")) << urls[1];
  const std::string public_url = urls[1];

  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service :
       {"networkservice.NetworkService", "connection.MonitorConnection",
        "registry.NetworkServiceRegistry", "registry.NetworkServiceEndpointRegistry", ""}) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&ctx, request, &response).ok()) << service;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }

  // An endpoint registers with its local URL and gets it back...
  auto nse_registry = registry::NetworkServiceEndpointRegistry::NewStub(channel_);
  registry::NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  nse.add_network_service_names("icmp");
  nse.set_url("unix:///run/nse-1.sock");
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    AddToken(ctx, "spiffe://example.org/nse-1");
    registry::NetworkServiceEndpoint reply;
    grpc::Status status = nse_registry->Register(&ctx, nse, &reply);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(reply.url(), "unix:///run/nse-1.sock");
    EXPECT_TRUE(reply.has_expiration_time());
    EXPECT_EQ(reply.path_ids_size(), 2);
  }
  // ...and is found under the nsmgr's public URL, reported with the local one.
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    registry::NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_url(public_url);
    auto reader = nse_registry->Find(&ctx, query);
    std::vector<registry::NetworkServiceEndpoint> found;
    registry::NetworkServiceEndpointResponse response;
    while (reader->Read(&response)) found.push_back(response.network_service_endpoint());
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].url(), "unix:///run/nse-1.sock");
  }

  // A request for a service nobody registered is refused with a clear error.
  {
    auto network_service = networkservice::NetworkService::NewStub(channel_);
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    AddToken(ctx, "spiffe://example.org/nsc");
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    request.mutable_connection()->set_network_service("icmp");
    connection::Connection reply;
    grpc::Status status = network_service->Request(&ctx, request, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(status.error_message().find("network service icmp is not found"), std::string::npos)
        << status.error_message();
  }

  daemon_->Signal(SIGTERM);
  const int status = daemon_->Wait(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(socket_));
}

}  // namespace
}  // namespace nsmcert::nsmgr
