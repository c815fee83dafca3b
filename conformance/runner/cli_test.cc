// Runs the nsmcert binaries as a user (or CI) would.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "conformance/cases/test_util.h"
#include "conformance/report/results_schema.h"
#include "conformance/runner/test_support.h"

namespace nsmcert::conformance {
namespace {

using testing::CommandResult;
using testing::ReadFile;
using testing::RunCommand;
using testing::TempDir;

const std::string kNsmcert = NSMCERT_BINARY;
const std::string kTestcases = NSMCERT_TESTCASES_BINARY;
const std::string kReferenceManifest = std::string(NSMCERT_MANIFEST_DIR) + "/reference.yaml";

class CliTest : public ::testing::Test {
 protected:
  CommandResult Run(const std::string& binary, std::vector<std::string> args) {
    args.insert(args.begin(), binary);
    return RunCommand(args, dir_.path());
  }
  CommandResult RunTestcases(const std::string& filter, std::vector<std::string> more = {}) {
    std::vector<std::string> args = {"run",      "--manifest", kReferenceManifest, "--out", "out",
                                     "--filter", filter,       "--timeout",        "5"};
    args.insert(args.end(), more.begin(), more.end());
    return Run(kTestcases, args);
  }

  TempDir dir_;
};

TEST_F(CliTest, VersionAndHelp) {
  CommandResult result = Run(kNsmcert, {"--version"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_TRUE(result.out.starts_with("nsmcert ")) << result.out;
  result = Run(kNsmcert, {"--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("nsmcert run --manifest FILE"), std::string::npos);
  EXPECT_NE(result.out.find("Exit codes"), std::string::npos);
  EXPECT_EQ(Run(kNsmcert, {}).exit_code, 2);
  result = Run(kNsmcert, {"certify"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("unknown command \"certify\""), std::string::npos);
}

TEST_F(CliTest, ListJsonOfTheRealCatalogueParses) {
  const CommandResult result = Run(kNsmcert, {"list", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json list = nlohmann::json::parse(result.out);
  EXPECT_EQ(list["schema_version"], 1);
  ASSERT_TRUE(list["cases"].is_array());
  for (const auto& c : list["cases"]) {
    for (const char* key : {"id", "title", "level", "area", "profile", "spec", "features"}) {
      EXPECT_TRUE(c.contains(key)) << c.dump();
    }
  }
  EXPECT_FALSE(list["known_features"].empty());
}

TEST_F(CliTest, ListShowsEveryCaseWithItsMetadata) {
  CommandResult result = Run(kTestcases, {"list", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const nlohmann::json list = nlohmann::json::parse(result.out);
  ASSERT_EQ(list["cases"].size(), 12u);
  nlohmann::json na;
  for (const auto& c : list["cases"]) {
    if (c["id"] == "TEST-NA-001") na = c;
  }
  ASSERT_FALSE(na.is_null());
  EXPECT_EQ(na["level"], "MUST");
  EXPECT_EQ(na["area"], "context");
  EXPECT_EQ(na["profile"], "core");
  EXPECT_EQ(na["spec"], "test-only");
  EXPECT_EQ(na["features"], (nlohmann::json{"ipv6", "mechanism.wireguard"}));

  result = Run(kTestcases, {"list", "--profile", "core", "--filter", "area:registry"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("TEST-PASS-001"), std::string::npos);
  EXPECT_EQ(result.out.find("TEST-FULL-001"), std::string::npos) << "full profile only";
  EXPECT_NE(result.out.find("1 case(s)"), std::string::npos) << result.out;

  EXPECT_EQ(Run(kTestcases, {"list", "--filter", "area:nowhere"}).exit_code, 2);
}

TEST_F(CliTest, BadManifestIsExitTwoWithFileAndLine) {
  testing::WriteFile(dir_ / "acme.yaml",
                     "vendor: Acme\nproduct: x\nversion: 1\nfeatures:\n  - mechanism.vxaln\n");
  const CommandResult result = Run(kNsmcert, {"run", "--manifest", "acme.yaml", "--out", "o"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("acme.yaml:5:5: features[0]: unknown feature \"mechanism.vxaln\""),
            std::string::npos)
      << result.err;
  const CommandResult missing = Run(kNsmcert, {"run", "--manifest", "nope.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope.yaml"), std::string::npos);
}

TEST_F(CliTest, UsageErrorsAreExitTwo) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"run"},
           {"run", "--manifest", kReferenceManifest, "--jobs", "zero"},
           {"run", "--manifest", kReferenceManifest, "--jobs", "0"},
           {"run", "--manifest", kReferenceManifest, "--profile", "quick"},
           {"run", "--manifest", kReferenceManifest, "--timeout", "-1"},
           {"run", "--manifest", kReferenceManifest, "--isolation", "vm"},
           {"run", "--manifest", kReferenceManifest, "--colour"},
           {"run", "--manifest", kReferenceManifest, "extra"},
           {"report"},
       }) {
    const CommandResult result = Run(kTestcases, args);
    EXPECT_EQ(result.exit_code, 2) << ::testing::PrintToString(args);
    EXPECT_FALSE(result.err.empty());
  }
}

TEST_F(CliTest, EmptySelectionIsExitTwo) {
  // The real catalogue with a filter that matches nothing: nothing certified.
  const CommandResult result = Run(
      kNsmcert, {"run", "--manifest", kReferenceManifest, "--out", "out", "--filter", "NOTHING-*"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("no case selected"), std::string::npos) << result.err;
}

TEST_F(CliTest, ExitCodeZeroWhenEveryMustCasePasses) {
  // A SHOULD failure, a MAY skip and a not-applicable case do not fail the run.
  const CommandResult result =
      RunTestcases("TEST-PASS-001,TEST-SOFT-001,TEST-SKIP-001,TEST-NA-001");
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("verdict PASS"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("total wall time"), std::string::npos);
  const nlohmann::json results = nlohmann::json::parse(ReadFile(dir_ / "out" / "results.json"));
  EXPECT_EQ(ValidateResultsJson(results), std::vector<std::string>{});
  EXPECT_EQ(results["summary"]["counts"]["n-a"], 1);
  for (const char* name : {"junit.xml", "report.md", "report.html", "bundle.tar.gz",
                           "manifest.yaml", "cases/TEST-PASS-001/case.log"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / name)) << name;
  }
}

TEST_F(CliTest, ExitCodeOneWhenAMustCaseFails) {
  const CommandResult result = RunTestcases("TEST-PASS-001,TEST-FAIL-001", {"--jobs", "2"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  EXPECT_NE(result.out.find("FAIL  TEST-FAIL-001"), std::string::npos) << result.out;
}

TEST_F(CliTest, ExitCodeTwoWhenTheHarnessBreaks) {
  EXPECT_EQ(RunTestcases("TEST-PASS-001,TEST-THROW-001").exit_code, 2);
  EXPECT_EQ(RunTestcases("TEST-SKIP-002").exit_code, 2) << "a MUST case that could not be judged";
  const CommandResult crash = RunTestcases("TEST-CRASH-001,TEST-FAIL-001");
  EXPECT_EQ(crash.exit_code, 2) << crash.out;
  EXPECT_NE(crash.out.find("died of signal 6"), std::string::npos) << crash.out;
}

TEST_F(CliTest, ThreadIsolationGivesTheSameVerdicts) {
  EXPECT_EQ(RunTestcases("TEST-PASS-001,TEST-FAIL-001", {"--isolation", "thread"}).exit_code, 1);
  EXPECT_EQ(RunTestcases("TEST-PASS-001", {"--isolation=thread", "--no-bundle"}).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "bundle.tar.gz"));
}

TEST_F(CliTest, ReportReRendersFromResultsJson) {
  ASSERT_EQ(RunTestcases("TEST-PASS-001,TEST-FAIL-001").exit_code, 1);
  std::filesystem::remove(dir_ / "out" / "report.md");
  std::filesystem::remove(dir_ / "out" / "report.html");
  CommandResult result = Run(kNsmcert, {"report", "out"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(ReadFile(dir_ / "out" / "report.md").find("| FAIL | TEST-FAIL-001 |"),
            std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(dir_ / "out" / "report.html"));
  EXPECT_NE(result.out.find("fail"), std::string::npos) << result.out;

  testing::WriteFile(dir_ / "out" / "results.json", "{\"schema_version\": 1}");
  result = Run(kNsmcert, {"report", "out"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("required property \"cases\" is missing"), std::string::npos)
      << result.err;
}

TEST_F(CliTest, OutputOfAnEarlierRunIsReplacedButOtherDirectoriesAreNot) {
  ASSERT_EQ(RunTestcases("TEST-PASS-001").exit_code, 0);
  ASSERT_EQ(RunTestcases("TEST-FAIL-001").exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "out" / "cases" / "TEST-PASS-001"));
  std::filesystem::create_directories(dir_ / "mine");
  testing::WriteFile(dir_ / "mine" / "notes.txt", "keep");
  const CommandResult result = Run(kTestcases, {"run", "--manifest", kReferenceManifest, "--out",
                                                "mine", "--filter", "TEST-PASS-001"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("not empty"), std::string::npos) << result.err;
  EXPECT_EQ(ReadFile(dir_ / "mine" / "notes.txt"), "keep");
}

}  // namespace
}  // namespace nsmcert::conformance
