// Real trials over real paths (needs root): each built-in path carries a low-rate stream with
// no loss and a sane delay, echo mode returns every packet, iperf3 runs inside the namespaces,
// and nothing is left behind.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "bench/datapath/iperf.h"
#include "bench/datapath/path.h"
#include "bench/datapath/probe.h"
#include "bench/datapath/process.h"
#include "bench/datapath/traffic_gen.h"
#include "gtest/gtest.h"
#include "reference/kernel/netns.h"

namespace nsmcert::bench {
namespace {

// Namespaces this test process created (they carry its pid).
std::vector<std::string> OwnNamespaces() {
  std::vector<std::string> out;
  const std::string marker = absl::StrCat("-", getpid(), "-");
  for (const std::string& name : kernel::ListNamedNetNs()) {
    if (name.starts_with(kBenchNetNsPrefix) && name.find(marker) != std::string::npos) {
      out.push_back(name);
    }
  }
  return out;
}

class PathSmokeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    absl::StatusOr<PathKind> kind = FindBuiltinPath(GetParam());
    ASSERT_TRUE(kind.ok()) << kind.status();
    path_ = kind->make();
    absl::Status s = path_->Setup();
    ASSERT_TRUE(s.ok()) << s;
  }
  void TearDown() override {
    generator_.reset();
    if (path_ != nullptr) {
      EXPECT_TRUE(path_->Teardown().ok());
      EXPECT_TRUE(OwnNamespaces().empty()) << "namespaces left behind";
    }
  }
  std::unique_ptr<PathUnderTest> path_;
  std::unique_ptr<TrafficGenerator> generator_;
};

TEST_P(PathSmokeTest, LowRateTrialArrivesWholeWithSaneLatency) {
  absl::StatusOr<std::unique_ptr<TrafficGenerator>> gen =
      TrafficGenerator::Create(path_->client(), path_->server());
  ASSERT_TRUE(gen.ok()) << gen.status();
  generator_ = *std::move(gen);
  EXPECT_NE(generator_->server_port(), 0);
  absl::StatusOr<std::chrono::nanoseconds> warm = generator_->WarmUp(std::chrono::seconds(5));
  ASSERT_TRUE(warm.ok()) << warm.status();
  std::cerr << "path passes traffic after " << warm->count() / 1000 << " us\n";

  TrialConfig config;
  config.payload_bytes = *UdpPayloadForFrame(64);
  config.rate_pps = 5'000;
  config.duration = std::chrono::seconds(1);
  config.drain = std::chrono::seconds(1);
  absl::StatusOr<TrialResult> r = generator_->Run(config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent, 5'000u);
  EXPECT_NEAR(r->sent_pps, 5'000, 500);
  EXPECT_EQ(r->received, r->sent);
  EXPECT_EQ(r->lost, 0u);
  EXPECT_EQ(r->duplicates, 0u);
  EXPECT_EQ(r->stray, 0u);
  EXPECT_EQ(r->latency.count, r->received);
  EXPECT_GT(r->latency.min_ns, 0);
  // Tens of microseconds on an idle machine; the bound only catches a path that queues (or a
  // broken clock), with room for a loaded CI runner.
  EXPECT_LT(r->latency.p50_ns, 20'000'000);
  EXPECT_LE(r->latency.p50_ns, r->latency.p999_ns);
  EXPECT_LE(r->latency.p999_ns, r->latency.max_ns);

  // A second trial on the same sockets is not confused by the first.
  config.mode = TrialMode::kEcho;
  config.rate_pps = 2'000;
  config.duration = std::chrono::milliseconds(250);
  config.payload_bytes = *UdpPayloadForFrame(1518);
  absl::StatusOr<TrialResult> echo = generator_->Run(config);
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->sent, 500u);
  EXPECT_EQ(echo->received, echo->sent) << "1518-byte frames cross the path unfragmented";
  EXPECT_EQ(echo->stray, 0u);
  EXPECT_GT(echo->latency.p50_ns, 0);
  EXPECT_LT(echo->latency.p50_ns, 40'000'000);
}

TEST_P(PathSmokeTest, UnthrottledTrialReportsWhatItSent) {
  absl::StatusOr<std::unique_ptr<TrafficGenerator>> gen =
      TrafficGenerator::Create(path_->client(), path_->server());
  ASSERT_TRUE(gen.ok()) << gen.status();
  generator_ = *std::move(gen);
  ASSERT_TRUE(generator_->WarmUp(std::chrono::seconds(5)).ok());
  TrialConfig config;
  config.duration = std::chrono::milliseconds(200);
  absl::StatusOr<TrialResult> r = generator_->Run(config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->sent, 1000u);
  EXPECT_GT(r->received, 0u);
  EXPECT_EQ(r->received + r->lost, r->sent);
}

TEST_P(PathSmokeTest, RealtimeTrialArrivesWhole) {
  absl::StatusOr<std::unique_ptr<TrafficGenerator>> gen =
      TrafficGenerator::Create(path_->client(), path_->server());
  ASSERT_TRUE(gen.ok()) << gen.status();
  generator_ = *std::move(gen);
  ASSERT_TRUE(generator_->WarmUp(std::chrono::seconds(5)).ok());
  TrialConfig config;
  config.rate_pps = 20'000;
  config.duration = std::chrono::milliseconds(250);
  config.drain = std::chrono::seconds(1);
  config.realtime_priority = 10;
  absl::StatusOr<TrialResult> r = generator_->Run(config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->sent, 5'000u);
  EXPECT_EQ(r->lost, 0u);
  config.realtime_priority = 100;
  EXPECT_EQ(generator_->Run(config).status().code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(BuiltinPaths, PathSmokeTest,
                         ::testing::Values("plain-veth", "veth-xconnect", "plain-vxlan",
                                           "vxlan-xconnect"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(PathLifecycleTest, SetupTwiceIsRefusedAndTeardownIsIdempotent) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::unique_ptr<PathUnderTest> path = FindBuiltinPath("veth-xconnect")->make();
  ASSERT_TRUE(path->Setup().ok());
  EXPECT_EQ(OwnNamespaces().size(), 3u);
  EXPECT_EQ(path->Setup().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(path->Teardown().ok());
  EXPECT_TRUE(path->Teardown().ok());
  EXPECT_TRUE(OwnNamespaces().empty());
  // The destructor tears down a path that is still set up.
  {
    std::unique_ptr<PathUnderTest> again = FindBuiltinPath("plain-vxlan")->make();
    ASSERT_TRUE(again->Setup().ok());
    EXPECT_EQ(OwnNamespaces().size(), 2u);
  }
  EXPECT_TRUE(OwnNamespaces().empty());
}

TEST(ExternalPathSmokeTest, MeasuresNamespacesItDidNotMake) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::unique_ptr<PathUnderTest> made = FindBuiltinPath("plain-veth")->make();
  ASSERT_TRUE(made->Setup().ok());
  absl::StatusOr<PathKind> external = ParseExternalPath(absl::StrCat(
      "name=existing,client-ns=", made->client().netns_name, ",client-ip=", made->client().ip,
      ",server-ns=", made->server().netns_name, ",server-ip=", made->server().ip));
  ASSERT_TRUE(external.ok()) << external.status();
  std::unique_ptr<PathUnderTest> path = external->make();
  ASSERT_TRUE(path->Setup().ok());
  {
    absl::StatusOr<std::unique_ptr<TrafficGenerator>> gen =
        TrafficGenerator::Create(path->client(), path->server());
    ASSERT_TRUE(gen.ok()) << gen.status();
    ASSERT_TRUE((*gen)->WarmUp(std::chrono::seconds(5)).ok());
    TrialConfig config;
    config.rate_pps = 1000;
    config.duration = std::chrono::milliseconds(100);
    absl::StatusOr<TrialResult> r = (*gen)->Run(config);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->lost, 0u);
  }
  EXPECT_TRUE(path->Teardown().ok());
  EXPECT_EQ(OwnNamespaces().size(), 2u) << "an external path does not delete what it found";
  EXPECT_TRUE(made->Teardown().ok());
}

TEST(Iperf3SmokeTest, TcpBulkOverPlainVeth) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (!FindExecutable("iperf3").ok()) GTEST_SKIP() << "iperf3 not installed";
  std::unique_ptr<PathUnderTest> path = FindBuiltinPath("plain-veth")->make();
  ASSERT_TRUE(path->Setup().ok());
  Iperf3Config config;
  config.seconds = 1;
  absl::StatusOr<TcpBulkResult> r = RunIperf3(path->client(), path->server(), config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->received_bps, 1e7);
  EXPECT_EQ(r->streams, 1);
  EXPECT_TRUE(path->Teardown().ok());
}

TEST(Iperf3SmokeTest, RealtimeTcpBulkOverVethXconnect) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  if (!FindExecutable("iperf3").ok()) GTEST_SKIP() << "iperf3 not installed";
  std::unique_ptr<PathUnderTest> path = FindBuiltinPath("veth-xconnect")->make();
  ASSERT_TRUE(path->Setup().ok());
  Iperf3Config config;
  config.seconds = 1;
  config.realtime_priority = 10;
  absl::StatusOr<TcpBulkResult> r = RunIperf3(path->client(), path->server(), config);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(r->received_bps, 1e7);
  EXPECT_TRUE(path->Teardown().ok());
}

TEST(ProcessTest, ReportsAMissingProgramAndAFailedExec) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  absl::StatusOr<kernel::NetNs> self = kernel::NetNs::Current();
  ASSERT_TRUE(self.ok());
  EXPECT_EQ(ChildProcess::SpawnInNetNs(*self, {"nsmcert-no-such-program"}).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<ChildProcess> child = ChildProcess::SpawnInNetNs(*self, {"false"});
  ASSERT_TRUE(child.ok()) << child.status();
  absl::StatusOr<int> status = child->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(DescribeWaitStatus(*status), "exited with 1");
  EXPECT_EQ(ChildProcess::SpawnInNetNs(*self, {"true"}, -1, -1, 100).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<ChildProcess> realtime = ChildProcess::SpawnInNetNs(*self, {"true"}, -1, -1, 5);
  ASSERT_TRUE(realtime.ok()) << realtime.status();
  status = realtime->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(DescribeWaitStatus(*status), "exited with 0");
}

TEST(SweepTest, RemovesNamespacesOfDeadProcessesOnly) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  const std::string stale = absl::StrCat(kBenchNetNsPrefix, "sweep-test-", dead, "-abcdef");
  const std::string live = absl::StrCat(kBenchNetNsPrefix, "sweep-test-", getpid(), "-abcdef");
  absl::StatusOr<kernel::ScopedNamedNetNs> stale_ns = kernel::ScopedNamedNetNs::Create(stale);
  ASSERT_TRUE(stale_ns.ok()) << stale_ns.status();
  absl::StatusOr<kernel::ScopedNamedNetNs> live_ns = kernel::ScopedNamedNetNs::Create(live);
  ASSERT_TRUE(live_ns.ok()) << live_ns.status();
  std::vector<std::string> removed = SweepStaleNetNs();
  EXPECT_NE(std::find(removed.begin(), removed.end(), stale), removed.end());
  EXPECT_EQ(std::find(removed.begin(), removed.end(), live), removed.end());
  std::vector<std::string> left = kernel::ListNamedNetNs();
  EXPECT_EQ(std::find(left.begin(), left.end(), stale), left.end());
  EXPECT_NE(std::find(left.begin(), left.end(), live), left.end());
}

}  // namespace
}  // namespace nsmcert::bench
