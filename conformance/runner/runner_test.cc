#include "conformance/runner/runner.h"

#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <sstream>
#include <thread>

#include "absl/synchronization/notification.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/function_case.h"
#include "conformance/cases/test_util.h"
#include "conformance/report/results_schema.h"
#include "conformance/report/tar_gz.h"
#include "conformance/report/xml_check.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;

const std::string kTestcasesBinary = NSMCERT_TESTCASES_BINARY;
const std::string kManifestDir = NSMCERT_MANIFEST_DIR;

Manifest LoadReference() {
  absl::StatusOr<Manifest> manifest = LoadManifestFile(kManifestDir + "/reference.yaml");
  EXPECT_TRUE(manifest.ok()) << manifest.status();
  return *manifest;
}

const CaseResult* FindResult(const RunResult& run, std::string_view id) {
  for (const CaseResult& c : run.cases) {
    if (c.info.id == id) return &c;
  }
  ADD_FAILURE() << "no result for " << id;
  return nullptr;
}

CaseInfo Info(const char* id, Area area, std::vector<std::string> features = {}) {
  CaseInfo info;
  info.id = id;
  info.title = std::string("title of ") + id;
  info.area = area;
  info.spec = "test";
  info.features = std::move(features);
  return info;
}

// In-process runs (thread isolation) over a local catalogue of function cases and a manual clock.
class ThreadRunTest : public ::testing::Test {
 protected:
  RunOptions Options() {
    RunOptions options;
    options.isolation = Isolation::kThread;
    options.out_dir = dir_ / "out";
    options.clock = &clock_;
    options.console = &console_;
    options.tool_version = "9.9.9";
    return options;
  }

  TempDir dir_;
  ManualClock clock_;
  std::ostringstream console_;
  CaseRegistry registry_;
  Manifest manifest_ = LoadReference();
};

TEST_F(ThreadRunTest, ReportsPerCaseAndPerAreaTimes) {
  const auto takes = [this](absl::Duration d) {
    return [this, d](CaseContext&) {
      clock_.Advance(d);
      return absl::OkStatus();
    };
  };
  ASSERT_TRUE(registry_
                  .Register(Info("REG-001", Area::kRegistry),
                            FunctionCaseFactory({}, takes(absl::Seconds(3)), {}))
                  .ok());
  ASSERT_TRUE(registry_
                  .Register(Info("REG-002", Area::kRegistry),
                            FunctionCaseFactory({}, takes(absl::Seconds(2)), {}))
                  .ok());
  ASSERT_TRUE(registry_
                  .Register(Info("MON-001", Area::kMonitor),
                            FunctionCaseFactory({}, takes(absl::Milliseconds(500)), {}))
                  .ok());
  Runner runner(registry_, manifest_, Options());
  absl::StatusOr<RunResult> run = runner.Run();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(ExitCodeFor(*run), 0);
  EXPECT_EQ(run->finished - run->started, absl::Milliseconds(5500));
  EXPECT_EQ(FindResult(*run, "REG-002")->duration, absl::Seconds(2));
  const RunSummary summary = Summarize(*run);
  ASSERT_EQ(summary.areas.size(), 2u);
  EXPECT_EQ(summary.areas[0].area, Area::kRegistry);
  EXPECT_EQ(summary.areas[0].case_time, absl::Seconds(5));
  EXPECT_EQ(summary.areas[0].wall_time, absl::Seconds(5));
  EXPECT_EQ(summary.areas[1].case_time, absl::Milliseconds(500));

  const std::string console = console_.str();
  EXPECT_NE(console.find("[1/3] PASS  MON-001"), std::string::npos) << console;
  EXPECT_NE(console.find("start REG-001"), std::string::npos);
  EXPECT_NE(
      console.find("registry          2     2     0     0     0     0       5.00s       5.00s"),
      std::string::npos)
      << console;
  EXPECT_NE(console.find("total wall time 5.50s"), std::string::npos);
  EXPECT_NE(console.find("verdict PASS (exit code 0)"), std::string::npos);
}

TEST_F(ThreadRunTest, UnclaimedFeaturesAreNotApplicableAndNeverRun) {
  std::atomic<bool> ran{false};
  const auto run_marker = [&ran](CaseContext&) {
    ran = true;
    return absl::OkStatus();
  };
  ASSERT_TRUE(registry_
                  .Register(Info("DP-WG-001", Area::kConnectivity,
                                 {"mechanism.wireguard", "mechanism.kernel", "ipv6"}),
                            FunctionCaseFactory({}, run_marker, {}))
                  .ok());
  ASSERT_TRUE(registry_
                  .Register(Info("DP-KERNEL-001", Area::kConnectivity, {"mechanism.kernel"}),
                            FunctionCaseFactory({}, {}, {}))
                  .ok());
  Runner runner(registry_, manifest_, Options());
  absl::StatusOr<RunResult> run = runner.Run();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FALSE(ran);
  const CaseResult* na = FindResult(*run, "DP-WG-001");
  EXPECT_EQ(na->status, CaseStatus::kNotApplicable);
  EXPECT_EQ(na->message, "the manifest does not claim features mechanism.wireguard, ipv6");
  EXPECT_EQ(na->missing_features, (std::vector<std::string>{"mechanism.wireguard", "ipv6"}));
  EXPECT_FALSE(na->started.has_value());
  EXPECT_EQ(FindResult(*run, "DP-KERNEL-001")->status, CaseStatus::kPass);
  EXPECT_EQ(ExitCodeFor(*run), 0);
  EXPECT_NE(console_.str().find("N/A   DP-WG-001"), std::string::npos) << console_.str();
}

TEST_F(ThreadRunTest, JobsRunCasesAtTheSameTime) {
  // Each case waits until both have started, so they pass only when run in parallel.
  auto started = std::make_shared<std::atomic<int>>(0);
  auto both = std::make_shared<absl::Notification>();
  const auto meet = [started, both](CaseContext&) {
    if (++*started == 2) both->Notify();
    if (!both->WaitForNotificationWithTimeout(absl::Seconds(30))) {
      return CaseFailure("the other case never started");
    }
    return absl::OkStatus();
  };
  ASSERT_TRUE(
      registry_.Register(Info("REG-001", Area::kRegistry), FunctionCaseFactory({}, meet, {})).ok());
  ASSERT_TRUE(
      registry_.Register(Info("REG-002", Area::kRegistry), FunctionCaseFactory({}, meet, {})).ok());
  RunOptions options = Options();
  options.jobs = 2;
  absl::StatusOr<RunResult> run = Runner(registry_, manifest_, options).Run();
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_EQ(FindResult(*run, "REG-001")->status, CaseStatus::kPass);
  EXPECT_EQ(FindResult(*run, "REG-002")->status, CaseStatus::kPass);
  EXPECT_EQ(run->jobs, 2);
}

TEST_F(ThreadRunTest, CaseTimeoutOverridesTheDefault) {
  CaseInfo info = Info("HEAL-001", Area::kHeal);
  info.timeout = absl::Milliseconds(50);
  ASSERT_TRUE(registry_
                  .Register(info, FunctionCaseFactory({},
                                                      [](CaseContext& context) {
                                                        while (!context.cancelled()) {
                                                          std::this_thread::sleep_for(
                                                              std::chrono::milliseconds(1));
                                                        }
                                                        return absl::OkStatus();
                                                      },
                                                      {}))
                  .ok());
  absl::StatusOr<RunResult> run = Runner(registry_, manifest_, Options()).Run();
  ASSERT_TRUE(run.ok()) << run.status();
  const CaseResult* heal = FindResult(*run, "HEAL-001");
  EXPECT_EQ(heal->status, CaseStatus::kError);
  EXPECT_EQ(heal->timeout, absl::Milliseconds(50));
  EXPECT_EQ(ExitCodeFor(*run), 2);
}

TEST_F(ThreadRunTest, RunThatCannotStartIsAnError) {
  ASSERT_TRUE(
      registry_.Register(Info("REG-001", Area::kRegistry), FunctionCaseFactory({}, {}, {})).ok());
  RunOptions options = Options();
  options.filter = "MON-*";
  EXPECT_EQ(Runner(registry_, manifest_, options).Run().status().code(),
            absl::StatusCode::kFailedPrecondition);
  options.filter = "area:nowhere";
  EXPECT_EQ(Runner(registry_, manifest_, options).Run().status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.jobs = 0;
  EXPECT_EQ(Runner(registry_, manifest_, options).Run().status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Options();
  options.isolation = Isolation::kProcess;
  options.executable = kTestcasesBinary;
  Manifest from_text = manifest_;
  from_text.source = "inline";
  EXPECT_EQ(Runner(registry_, from_text, options).Run().status().code(),
            absl::StatusCode::kInvalidArgument)
      << "case processes read the manifest from its file";
  options = Options();
  std::filesystem::create_directories(dir_ / "foreign");
  testing::WriteFile(dir_ / "foreign" / "keep.txt", "mine");
  options.out_dir = dir_ / "foreign";
  EXPECT_EQ(Runner(registry_, manifest_, options).Run().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(dir_ / "foreign" / "keep.txt"), "mine");
}

// A full run of the test-only catalogue with process isolation, as `nsmcert run` does it.
TEST(ProcessRunTest, WritesResultsReportsAndABundleOfEverything) {
  TempDir dir;
  const Manifest manifest = LoadReference();
  std::ostringstream console;
  RunOptions options;
  options.profile = Profile::kFull;
  options.isolation = Isolation::kProcess;
  options.executable = kTestcasesBinary;
  options.out_dir = dir / "out";
  options.jobs = 3;
  // TEST-HANG-001 and TEST-STUCK-001 time out after their own 1s; the others get plenty.
  options.default_timeout = absl::Seconds(60);
  options.grace = absl::Milliseconds(300);
  options.console = &console;
  options.tool_version = "9.9.9";
  absl::StatusOr<RunResult> run = Runner(CaseRegistry::Global(), manifest, options).Run();
  ASSERT_TRUE(run.ok()) << run.status();

  const std::map<std::string, CaseStatus> expected = {
      {"TEST-PASS-001", CaseStatus::kPass},   {"TEST-FULL-001", CaseStatus::kPass},
      {"TEST-FAIL-001", CaseStatus::kFail},   {"TEST-SOFT-001", CaseStatus::kFail},
      {"TEST-THROW-001", CaseStatus::kError}, {"TEST-ERROR-001", CaseStatus::kError},
      {"TEST-HANG-001", CaseStatus::kError},  {"TEST-STUCK-001", CaseStatus::kError},
      {"TEST-CRASH-001", CaseStatus::kError}, {"TEST-NA-001", CaseStatus::kNotApplicable},
      {"TEST-SKIP-001", CaseStatus::kSkip},   {"TEST-SKIP-002", CaseStatus::kSkip},
  };
  for (const auto& [id, status] : expected) {
    const CaseResult* c = FindResult(*run, id);
    ASSERT_NE(c, nullptr);
    EXPECT_EQ(c->status, status) << id << ": " << c->message;
  }
  EXPECT_EQ(FindResult(*run, "TEST-ERROR-001")->message,
            "UNAVAILABLE: cannot create namespace nsmc-x-node-a");
  EXPECT_EQ(ExitCodeFor(*run), 2);

  const std::filesystem::path out = dir / "out";
  const nlohmann::json results = nlohmann::json::parse(ReadFile(out / "results.json"));
  EXPECT_EQ(ValidateResultsJson(results), std::vector<std::string>{});
  EXPECT_EQ(results["summary"]["exit_code"], 2);
  EXPECT_EQ(results["tool"]["version"], "9.9.9");
  EXPECT_EQ(ReadFile(out / "manifest.yaml"), ReadFile(kManifestDir + "/reference.yaml"));

  absl::StatusOr<testing::XmlElement> junit = testing::ParseXml(ReadFile(out / "junit.xml"));
  ASSERT_TRUE(junit.ok()) << junit.status();
  EXPECT_EQ(junit->FindAll("testcase").size(), expected.size());
  EXPECT_EQ(junit->FindAll("error").size(), 5u);

  // Every evidence path exists, and the bundle holds every file of the output directory.
  for (const CaseResult& c : run->cases) {
    for (const Evidence& e : c.evidence) {
      EXPECT_TRUE(std::filesystem::is_regular_file(out / e.path)) << e.path;
    }
  }
  std::set<std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(out)) {
    const std::string relative = entry.path().lexically_relative(out).generic_string();
    if (entry.is_regular_file() && relative != "bundle.tar.gz" && relative != ".nsmcert-output") {
      files.insert(relative);
    }
  }
  EXPECT_TRUE(files.count("cases/TEST-PASS-001/underlay.pcap"));
  EXPECT_TRUE(files.count("report.html"));
  absl::StatusOr<std::vector<TarEntry>> bundle = ReadTarGz(out / "bundle.tar.gz");
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  std::set<std::string> bundled;
  for (const TarEntry& entry : *bundle) {
    if (!entry.directory) bundled.insert(entry.path.substr(std::string("nsmcert-results/").size()));
  }
  EXPECT_EQ(bundled, files);

  const std::string text = console.str();
  EXPECT_NE(text.find("profile full: 12 case(s), 1 not applicable; 3 at a time, process"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("-> path segment count: expected 4, observed 3"), std::string::npos);
  EXPECT_NE(text.find("verdict ERROR (exit code 2)"), std::string::npos);
}

}  // namespace
}  // namespace nsmcert::conformance
