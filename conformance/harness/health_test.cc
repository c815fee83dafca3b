// gRPC health probes against the test health server, over unix sockets and TCP on loopback
// (namespaces are covered by topology_test.cc).
#include "conformance/harness/health.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "conformance/harness/process.h"

namespace nsmcert::harness {
namespace {

using ::testing::HasSubstr;

constexpr char kHealthServer[] = NSMCERT_HEALTH_SERVER;

TEST(GrpcTargetTest, FollowsTheNsmUrlRules) {
  EXPECT_EQ(*GrpcTargetOf("unix:///var/lib/nsm/nsm.io.sock"), "unix:///var/lib/nsm/nsm.io.sock");
  EXPECT_EQ(*GrpcTargetOf("tcp://10.0.0.1:5001"), "10.0.0.1:5001");
  EXPECT_EQ(*GrpcTargetOf("10.0.0.1:5001"), "10.0.0.1:5001");
  EXPECT_EQ(GrpcTargetOf("http://10.0.0.1:5001").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(CheckHealthTest, BadUrlsAreInvalidArgument) {
  for (const char* url : {"tcp://10.0.0.1", "tcp://10.0.0.1:0", "tcp://10.0.0.1:70000",
                          "tcp://somehost:80", "http://10.0.0.1:80", "unix://"}) {
    auto status = CheckHealth({url, ""}, "", absl::Seconds(1));
    EXPECT_EQ(status.status().code(), absl::StatusCode::kInvalidArgument) << url;
    EXPECT_THAT(status.status().message(), HasSubstr(url));
  }
}

TEST(CheckHealthTest, NothingListeningIsUnavailable) {
  auto missing = CheckHealth({"unix:///nonexistent/health.sock", ""}, "", absl::Seconds(1));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/health.sock"));
  auto missing_ns = CheckHealth({"tcp://127.0.0.1:1", "/nonexistent/netns"}, "", absl::Seconds(1));
  EXPECT_EQ(missing_ns.status().code(), absl::StatusCode::kNotFound);
}

class HealthServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nsmcert-health-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    auto supervisor = Supervisor::Create({.log_dir = dir_ + "/logs"});
    ASSERT_TRUE(supervisor.ok()) << supervisor.status();
    supervisor_ = *std::move(supervisor);
  }
  void TearDown() override {
    supervisor_.reset();
    std::filesystem::remove_all(dir_);
  }

  Process* Start(const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> argv = {kHealthServer};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto process = supervisor_->Start({.name = name, .argv = argv});
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *process : nullptr;
  }

  std::string dir_;
  std::unique_ptr<Supervisor> supervisor_;
};

TEST_F(HealthServerTest, ChecksNamedServices) {
  const std::string url = "unix://" + dir_ + "/services.sock";
  Process* server = Start("services", {"--listen=" + url, "--service=networkservice.NetworkService",
                                       "--service=registry.NetworkServiceRegistry"});
  ASSERT_NE(server, nullptr);
  ASSERT_TRUE(
      server
          ->WaitHealthy({url, ""},
                        {"networkservice.NetworkService", "registry.NetworkServiceRegistry"},
                        absl::Seconds(20))
          .ok());
  EXPECT_EQ(*CheckHealth({url, ""}, "networkservice.NetworkService", absl::Seconds(5)),
            ServingStatus::kServing);
  // The health protocol answers NOT_FOUND for a service it does not know.
  auto unknown = CheckHealth({url, ""}, "connection.MonitorConnection", absl::Seconds(5));
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  const absl::Status waited =
      WaitHealthy({url, ""}, {"connection.MonitorConnection"}, absl::Milliseconds(500));
  EXPECT_EQ(waited.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(waited.message(), HasSubstr("connection.MonitorConnection"));
}

TEST_F(HealthServerTest, NotServingIsNotHealthy) {
  const std::string url = "unix://" + dir_ + "/down.sock";
  ASSERT_NE(Start("down", {"--listen=" + url, "--not-serving"}), nullptr);
  // Wait until it answers at all, then check the answer.
  absl::StatusOr<ServingStatus> status;
  for (int i = 0; i < 1000; ++i) {
    status = CheckHealth({url, ""}, "", absl::Seconds(5));
    if (status.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ServingStatus::kNotServing);
  const absl::Status waited = WaitHealthy({url, ""}, {}, absl::Milliseconds(300));
  EXPECT_EQ(waited.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(waited.message(), HasSubstr(url));
}

TEST_F(HealthServerTest, ProbesTcpOnAnEphemeralPort) {
  const std::string port_file = dir_ + "/port";
  ASSERT_NE(Start("tcp", {"--listen=tcp://127.0.0.1:0", "--port-file=" + port_file}), nullptr);
  std::string port;
  for (int i = 0; i < 2000 && port.empty(); ++i) {
    std::ifstream(port_file) >> port;
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_FALSE(port.empty());
  EXPECT_TRUE(WaitHealthy({"tcp://127.0.0.1:" + port, ""}, {}, absl::Seconds(20)).ok());
  EXPECT_TRUE(WaitHealthy({"localhost:" + port, ""}, {}, absl::Seconds(20)).ok());
}

TEST_F(HealthServerTest, KeepWaitingCanEndTheWait) {
  const absl::Status status =
      WaitHealthy({"unix://" + dir_ + "/never.sock", ""}, {}, absl::Seconds(60),
                  [] { return absl::AbortedError("gave up"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kAborted);
}

}  // namespace
}  // namespace nsmcert::harness
