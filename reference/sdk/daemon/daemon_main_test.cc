#include "reference/sdk/daemon/daemon_main.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "grpc_health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "networkservice.grpc.pb.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::daemon {
namespace {

using ::testing::internal::CaptureStderr;
using ::testing::internal::CaptureStdout;
using ::testing::internal::GetCapturedStderr;
using ::testing::internal::GetCapturedStdout;

TEST(ParseLogLevelVariable, AcceptsALevel) {
  auto level = ParseLogLevelVariable("DEBUG");
  ASSERT_TRUE(level.ok()) << level.status();
  EXPECT_EQ(*level, LogLevel::kDebug);
}

TEST(ParseLogLevelVariable, ABadLevelNamesTheVariable) {
  auto level = ParseLogLevelVariable("LOUD");
  ASSERT_FALSE(level.ok());
  EXPECT_EQ(level.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(level.status().message(), "NSM_LOG_LEVEL: ")) << level.status();
  EXPECT_NE(level.status().message().find("LOUD"), std::string::npos) << level.status();
}

TEST(NameVariable, KeepsTheCodeAndLeavesOkAlone) {
  absl::Status named = NameVariable("NSM_TUNNEL_IP", absl::NotFoundError("no such address"));
  EXPECT_EQ(named, absl::NotFoundError("NSM_TUNNEL_IP: no such address"));
  EXPECT_TRUE(NameVariable("NSM_TUNNEL_IP", absl::OkStatus()).ok());
  EXPECT_EQ(InvalidVariable("NSM_PAYLOAD", "empty"),
            absl::InvalidArgumentError("NSM_PAYLOAD: empty"));
}

TEST(SpiffeIdHelp, EndsWithTheDefault) {
  EXPECT_EQ(SpiffeIdHelp("SPIFFE ID the nsmgr signs its tokens as"),
            "SPIFFE ID the nsmgr signs its tokens as (default spiffe://nsmcert.local/<NSM_NAME>)");
}

std::string SubjectOf(tools::TokenSigner& signer) {
  auto token = signer.Sign("");
  if (!token.ok()) return token.status().ToString();
  auto subject = tools::JwtSubjectSpiffeId(token->value);
  if (!subject.ok()) return subject.status().ToString();
  return subject->ToString();
}

TEST(MakeTokenSigner, SignsAsTheConfiguredOrTheDefaultIdentity) {
  auto made_up = MakeTokenSigner("nsmgr-1", "", absl::Minutes(10));
  ASSERT_TRUE(made_up.ok()) << made_up.status();
  EXPECT_EQ(SubjectOf(**made_up), "spiffe://nsmcert.local/nsmgr-1");

  auto configured = MakeTokenSigner("nsmgr-1", "spiffe://example.org/ns/nsmgr", absl::Minutes(10));
  ASSERT_TRUE(configured.ok()) << configured.status();
  EXPECT_EQ(SubjectOf(**configured), "spiffe://example.org/ns/nsmgr");
}

TEST(MakeTokenSigner, ABadIdentityNamesTheVariableItCameFrom) {
  auto bad_id = MakeTokenSigner("nsmgr-1", "http://example.org/x", absl::Minutes(10));
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(bad_id.status().message(), "NSM_SPIFFE_ID: ")) << bad_id.status();

  auto bad_name = MakeTokenSigner("nsmgr 1", "", absl::Minutes(10));
  ASSERT_FALSE(bad_name.ok());
  EXPECT_TRUE(absl::StartsWith(bad_name.status().message(), "NSM_NAME: ")) << bad_name.status();
}

// argv as main() gets it.
class Args {
 public:
  explicit Args(std::vector<std::string> args) : strings_(std::move(args)) {
    strings_.insert(strings_.begin(), "nsmcert-test");
    for (std::string& s : strings_) argv_.push_back(s.data());
    argv_.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(strings_.size()); }
  char** argv() { return argv_.data(); }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> argv_;
};

TEST(DaemonMain, HelpPrintsTheVariablesAndExitsZero) {
  DaemonMain daemon_main("nsmcert-test", "A test daemon.");
  std::string level;
  daemon_main.env().String("NSM_LOG_LEVEL", &level, "INFO", kLogLevelHelp);
  Args args({"--help"});
  CaptureStdout();
  std::optional<int> exit = daemon_main.Configure(args.argc(), args.argv());
  const std::string out = GetCapturedStdout();
  EXPECT_EQ(exit, 0);
  EXPECT_NE(out.find("A test daemon."), std::string::npos) << out;
  EXPECT_NE(out.find("NSM_LOG_LEVEL"), std::string::npos) << out;
  EXPECT_NE(out.find(kLogLevelHelp), std::string::npos) << out;
}

TEST(DaemonMain, LoadsTheEnvironmentAndGoesOn) {
  DaemonMain daemon_main("nsmcert-test", "A test daemon.");
  absl::Duration period;
  daemon_main.env().Duration("NSMCERT_DAEMON_MAIN_TEST_PERIOD", &period, "1m", "a period");
  setenv("NSMCERT_DAEMON_MAIN_TEST_PERIOD", "90s", 1);
  Args args({});
  std::optional<int> exit = daemon_main.Configure(args.argc(), args.argv());
  unsetenv("NSMCERT_DAEMON_MAIN_TEST_PERIOD");
  EXPECT_EQ(exit, std::nullopt);
  EXPECT_EQ(period, absl::Seconds(90));
}

TEST(DaemonMain, ABadValueIsPrintedWithTheProgramAndExitsTwo) {
  DaemonMain daemon_main("nsmcert-test", "A test daemon.");
  absl::Duration period;
  daemon_main.env().Duration("NSMCERT_DAEMON_MAIN_TEST_PERIOD", &period, "1m", "a period");
  setenv("NSMCERT_DAEMON_MAIN_TEST_PERIOD", "soon", 1);
  Args args({});
  CaptureStderr();
  std::optional<int> exit = daemon_main.Configure(args.argc(), args.argv());
  const std::string err = GetCapturedStderr();
  unsetenv("NSMCERT_DAEMON_MAIN_TEST_PERIOD");
  EXPECT_EQ(exit, kExitBadConfiguration);
  EXPECT_TRUE(err.starts_with("nsmcert-test: INVALID_ARGUMENT: ")) << err;
  EXPECT_NE(err.find("NSMCERT_DAEMON_MAIN_TEST_PERIOD"), std::string::npos) << err;
}

TEST(DaemonMain, AnUnknownArgumentExitsTwo) {
  DaemonMain daemon_main("nsmcert-test", "A test daemon.");
  Args args({"--verbose"});
  CaptureStderr();
  std::optional<int> exit = daemon_main.Configure(args.argc(), args.argv());
  const std::string err = GetCapturedStderr();
  EXPECT_EQ(exit, kExitBadConfiguration);
  EXPECT_NE(err.find("--verbose"), std::string::npos) << err;
}

TEST(DaemonMain, FailPrintsTheProgramAndTheStatus) {
  DaemonMain daemon_main("nsmcert-test", "A test daemon.");
  CaptureStderr();
  const int exit = daemon_main.Fail(InvalidVariable("NSM_LISTEN_ON", "empty"));
  EXPECT_EQ(GetCapturedStderr(), "nsmcert-test: INVALID_ARGUMENT: NSM_LISTEN_ON: empty\n");
  EXPECT_EQ(exit, 2);
}

// A daemon's server as StartGrpcDaemon sees it: something with RegisterServices.
class FakeServer {
 public:
  void RegisterServices(grpc::ServerBuilder& builder) { builder.RegisterService(&service_); }

 private:
  networkservice::NetworkService::Service service_;
};

grpc::health::v1::HealthCheckResponse::ServingStatus Health(const std::string& socket,
                                                            const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  if (!stub->Check(&ctx, request, &response).ok()) {
    return grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN;
  }
  return response.status();
}

TEST(StartGrpcDaemon, ServesUntilStopServingEndsTheStreamsAndRemovesTheSocket) {
  std::string dir =
      (std::filesystem::temp_directory_path() / "nsmcert-daemon-main-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  const std::string socket = dir + "/nsm.sock";
  FakeServer server;
  auto daemon = StartGrpcDaemon({"unix://" + socket}, server);
  ASSERT_TRUE(daemon.ok()) << daemon.status();
  const std::vector<std::string_view> services = {api::service::kNetworkService};
  (*daemon)->SetServing(services, true);
  const std::string service(api::service::kNetworkService);
  EXPECT_EQ(Health(socket, service), grpc::health::v1::HealthCheckResponse::SERVING);

  bool streams_ended = false;
  StopServing(**daemon, services, [&] {
    // The health service already says NOT_SERVING, while the server still answers.
    EXPECT_EQ(Health(socket, service), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
    streams_ended = true;
  });
  EXPECT_TRUE(streams_ended);
  EXPECT_FALSE(std::filesystem::exists(socket));
  std::filesystem::remove_all(dir);
}

TEST(StartGrpcDaemon, ABadListenUrlIsInvalidArgument) {
  FakeServer server;
  auto daemon = StartGrpcDaemon({"http://x:1"}, server);
  ASSERT_FALSE(daemon.ok());
  EXPECT_EQ(daemon.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(daemon.status().message().find("http://x:1"), std::string::npos) << daemon.status();
}

}  // namespace
}  // namespace nsmcert::sdk::daemon
