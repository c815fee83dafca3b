// The nsmcert-nse binary over real gRPC: it registers through a registry reached at
// NSM_CONNECT_TO (the reference registry, served in this process on a unix socket, standing in for
// the nsmgr's registry side), serves health, answers a forwarder's Request with addresses and the
// KERNEL mechanism in its namespace (the test's own: the child inherits it), streams its monitor,
// refuses bad requests and keeps serving, and unregisters on SIGTERM.
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "connection.grpc.pb.h"
#include "grpc_health.grpc.pb.h"
#include "networkservice.grpc.pb.h"
#include "reference/kernel/netns.h"
#include "reference/registry/registry_server.h"
#include "reference/sdk/daemon/testing/daemon_child.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"

extern char** environ;

namespace nsmcert::nse {
namespace {

using sdk::testing::ReadFile;

class TempDir : public sdk::testing::TempDir {
 public:
  TempDir() : sdk::testing::TempDir("nsmcert-nse-test") {}
};

// The daemon binary under test as a child process (sdk/daemon/testing/daemon_child.h).
class Child : public sdk::testing::DaemonChild {
 public:
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        const std::string& out, const std::string& err)
      : DaemonChild(NSMCERT_NSE_BINARY, args, env, out, err) {}
};

bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(10)) {
  return sdk::testing::Eventually(done, timeout);
}

std::string Token(const std::string& name, absl::Time expires) {
  sdk::tools::JwtClaims claims;
  claims.subject = "spiffe://test.com/" + name;
  claims.expires_at = expires;
  return *sdk::tools::SignJwtHs256(claims, "secret");
}

class NseDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registryd::RegistryOptions options;
    options.token_signer = std::make_shared<sdk::tools::Hs256TokenSigner>(
        *sdk::tools::SpiffeId::Parse("spiffe://test.com/registry"), "secret");
    registry_ = *registryd::RegistryServer::Create(std::move(options));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + registry_socket_, grpc::InsecureServerCredentials());
    registry_->RegisterServices(builder);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void TearDown() override {
    child_.reset();
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    }
  }

  void Start(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env = {
        {"NSM_NAME", "nse-e2e"},
        {"NSM_CONNECT_TO", "unix://" + registry_socket_},
        {"NSM_LISTEN_ON", "unix://" + nse_socket_},
        {"NSM_SERVICE_NAMES", "icmp-responder"},
        {"NSM_CIDR_PREFIX", "172.16.1.100/31"},
        {"NSM_LABELS", "app:icmp"},
        {"NSMCERT_LISTEN_REPORT", dir_.path() + "/report"},
    };
    for (auto& [k, v] : extra) env[k] = v;
    child_ = std::make_unique<Child>(std::vector<std::string>{}, env, out_, err_);
    ASSERT_TRUE(child_->started());
    ASSERT_TRUE(Eventually([&] { return std::filesystem::exists(dir_.path() + "/report"); }))
        << ReadFile(err_);
    channel_ = grpc::CreateChannel("unix:" + nse_socket_, grpc::InsecureChannelCredentials());
  }

  std::optional<registry::NetworkServiceEndpoint> Registered() {
    return registry_->nse_store().Get("nse-e2e");
  }

  // What a forwarder sends: a three-segment path, its own segment at the index, KERNEL preferred.
  networkservice::NetworkServiceRequest ForwarderRequest() {
    const absl::Time expires = absl::Now() + absl::Minutes(10);
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("fwd-conn");
    conn->set_network_service("icmp-responder");
    conn->set_network_service_endpoint_name("nse-e2e");
    for (const std::string name : {"nsc", "nsmgr", "forwarder"}) {
      auto* segment = conn->mutable_path()->add_path_segments();
      segment->set_name(name);
      segment->set_id(name == "forwarder" ? "fwd-conn" : name + "-conn");
      segment->set_token(Token(name, expires));
      *segment->mutable_expires() = *sdk::tools::ToProtoTimestamp(expires);
    }
    conn->mutable_path()->set_index(2);
    auto* kernel = request.add_mechanism_preferences();
    kernel->set_cls("LOCAL");
    kernel->set_type("KERNEL");
    return request;
  }
  void Prepare(grpc::ClientContext& ctx) {
    const absl::Time expires = absl::Now() + absl::Minutes(10);
    ctx.AddMetadata("nsm-client-token", Token("forwarder", expires));
    ctx.AddMetadata("nsm-client-token-expires", sdk::tools::FormatRfc3339Nano(expires));
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  }

  TempDir dir_;
  const std::string registry_socket_ = dir_.path() + "/registry.sock";
  const std::string nse_socket_ = dir_.path() + "/nse.sock";
  const std::string out_ = dir_.path() + "/out";
  const std::string err_ = dir_.path() + "/err";
  std::unique_ptr<registryd::RegistryServer> registry_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Child> child_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(NseDaemonTest, RegistersServesAndUnregistersOnSigterm) {
  Start();
  ASSERT_TRUE(Eventually([&] { return Registered().has_value(); })) << ReadFile(err_);
  auto nse = *Registered();
  EXPECT_EQ(nse.url(), "unix://" + nse_socket_);
  ASSERT_EQ(nse.network_service_names_size(), 1);
  EXPECT_EQ(nse.network_service_names(0), "icmp-responder");
  EXPECT_EQ(nse.network_service_labels().at("icmp-responder").labels().at("app"), "icmp");
  EXPECT_TRUE(nse.has_expiration_time());
  auto ns = registry_->ns_store().Get("icmp-responder");
  ASSERT_TRUE(ns.has_value());
  EXPECT_EQ(ns->payload(), "ETHERNET");

  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const std::string service :
       {"networkservice.NetworkService", "connection.MonitorConnection"}) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }

  auto stub = networkservice::NetworkService::NewStub(channel_);
  grpc::ClientContext request_ctx;
  Prepare(request_ctx);
  connection::Connection conn;
  grpc::Status status = stub->Request(&request_ctx, ForwarderRequest(), &conn);
  ASSERT_TRUE(status.ok()) << status.error_message() << "\n" << ReadFile(err_);
  EXPECT_EQ(conn.id(), "fwd-conn");
  ASSERT_EQ(conn.path().path_segments_size(), 4);
  EXPECT_EQ(conn.path().path_segments(3).name(), "nse-e2e");
  EXPECT_EQ(conn.mechanism().type(), "KERNEL");
  EXPECT_EQ(conn.mechanism().parameters().at("inodeURL"), kernel::NetNs::Current()->InodeUrl())
      << "the endpoint's own namespace";
  EXPECT_EQ(conn.mechanism().parameters().at("name").size(), 15u);
  EXPECT_EQ(conn.context().ip_context().dst_ip_addrs(0), "172.16.1.100/32");
  EXPECT_EQ(conn.context().ip_context().src_ip_addrs(0), "172.16.1.101/32");

  auto monitor = connection::MonitorConnection::NewStub(channel_);
  grpc::ClientContext monitor_ctx;
  auto stream = monitor->MonitorConnections(&monitor_ctx, connection::MonitorScopeSelector());
  connection::ConnectionEvent event;
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_EQ(event.type(), connection::INITIAL_STATE_TRANSFER);
  EXPECT_EQ(event.connections_size(), 1);

  grpc::ClientContext close_ctx;
  Prepare(close_ctx);
  google::protobuf::Empty empty;
  status = stub->Close(&close_ctx, conn, &empty);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(stream->Read(&event));
  EXPECT_EQ(event.type(), connection::DELETE);
  monitor_ctx.TryCancel();

  child_->Signal(SIGTERM);
  const int exit_status = child_->Wait(absl::Seconds(10));
  ASSERT_TRUE(WIFEXITED(exit_status)) << ReadFile(err_);
  EXPECT_EQ(WEXITSTATUS(exit_status), 0) << ReadFile(err_);
  EXPECT_FALSE(Registered().has_value()) << "unregistered on exit";
  EXPECT_TRUE(registry_->ns_store().Get("icmp-responder").has_value());
  EXPECT_FALSE(std::filesystem::exists(nse_socket_));
}

TEST_F(NseDaemonTest, RefusesBadRequestsAndKeepsServing) {
  Start();
  auto stub = networkservice::NetworkService::NewStub(channel_);
  auto memif = ForwarderRequest();
  memif.mutable_mechanism_preferences(0)->set_type("MEMIF");
  grpc::ClientContext ctx;
  Prepare(ctx);
  connection::Connection conn;
  grpc::Status status = stub->Request(&ctx, memif, &conn);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();

  auto no_token = ForwarderRequest();
  for (auto& segment : *no_token.mutable_connection()->mutable_path()->mutable_path_segments()) {
    segment.set_token("not-a-jwt");
  }
  grpc::ClientContext bad_token_ctx;
  bad_token_ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  status = stub->Request(&bad_token_ctx, no_token, &conn);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();

  grpc::ClientContext good_ctx;
  Prepare(good_ctx);
  status = stub->Request(&good_ctx, ForwarderRequest(), &conn);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(conn.context().ip_context().src_ip_addrs(0), "172.16.1.101/32")
      << "the refused requests left no addresses taken";
}

TEST_F(NseDaemonTest, WaitsForItsNsmgr) {
  // The registry is not there yet: the endpoint serves anyway and registers once it is.
  server_->Shutdown(std::chrono::system_clock::now());
  server_.reset();
  Start({{"NSMCERT_REGISTRY_RETRY_INTERVAL", "100ms"}});
  absl::SleepFor(absl::Milliseconds(500));
  EXPECT_FALSE(Registered().has_value());
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + registry_socket_, grpc::InsecureServerCredentials());
  registry_->RegisterServices(builder);
  server_ = builder.BuildAndStart();
  ASSERT_NE(server_, nullptr);
  EXPECT_TRUE(Eventually([&] { return Registered().has_value(); })) << ReadFile(err_);
}

TEST(NseDaemon, HelpAndBadConfiguration) {
  TempDir dir;
  const std::string out = dir.path() + "/out";
  const std::string err = dir.path() + "/err";
  {
    Child help({"--help"}, {}, out, err);
    const int status = help.Wait(absl::Seconds(10));
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_NE(ReadFile(out).find("NSM_CIDR_PREFIX"), std::string::npos);
  }
  for (const auto& [variable, value] :
       std::vector<std::pair<std::string, std::string>>{{"NSM_IPAM_POLICY", "bogus"},
                                                        {"NSM_CIDR_PREFIX", "300.0.0.0/8"},
                                                        {"NSM_LABELS", "novalue"},
                                                        {"NSM_CONNECT_TO", "http://nsmgr"},
                                                        {"NSM_DNS_CONFIGS", "{"}}) {
    Child bad({}, {{variable, value}, {"NSM_LISTEN_ON", "unix://" + dir.path() + "/s"}}, out, err);
    const int status = bad.Wait(absl::Seconds(10));
    ASSERT_TRUE(WIFEXITED(status)) << variable;
    EXPECT_EQ(WEXITSTATUS(status), 2) << variable;
    EXPECT_NE(ReadFile(err).find(variable), std::string::npos) << ReadFile(err);
  }
}

}  // namespace
}  // namespace nsmcert::nse
