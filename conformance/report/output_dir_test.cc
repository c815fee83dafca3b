#include "conformance/report/output_dir.h"

#include <gtest/gtest.h>

#include <set>

#include "conformance/cases/test_util.h"
#include "conformance/report/results_schema.h"
#include "conformance/report/tar_gz.h"
#include "conformance/report/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::SampleRun;
using testing::TempDir;

TEST(OutputDirTest, CreatesClearsOwnOutputAndRefusesForeignDirectories) {
  TempDir dir;
  const std::filesystem::path out = dir / "out";
  ASSERT_TRUE(PrepareOutputDir(out).ok());
  EXPECT_TRUE(std::filesystem::is_directory(out / "cases"));
  EXPECT_TRUE(std::filesystem::exists(out / ".nsmcert-output"));

  testing::WriteFile(out / "results.json", "old");
  std::filesystem::create_directories(out / "cases" / "REG-001");
  ASSERT_TRUE(PrepareOutputDir(out).ok()) << "an earlier run's output is replaced";
  EXPECT_FALSE(std::filesystem::exists(out / "results.json"));
  EXPECT_FALSE(std::filesystem::exists(out / "cases" / "REG-001"));

  const std::filesystem::path foreign = dir / "home";
  std::filesystem::create_directories(foreign);
  testing::WriteFile(foreign / "thesis.tex", "precious");
  const absl::Status status = PrepareOutputDir(foreign);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile(foreign / "thesis.tex"), "precious");

  testing::WriteFile(dir / "file", "x");
  EXPECT_EQ(PrepareOutputDir(dir / "file").code(), absl::StatusCode::kFailedPrecondition);
}

TEST(OutputDirTest, WritesReportsAndABundleOfEverything) {
  TempDir dir;
  const std::filesystem::path out = dir / "out";
  ASSERT_TRUE(PrepareOutputDir(out).ok());
  std::filesystem::create_directories(out / "cases" / "REG-001");
  testing::WriteFile(out / "cases" / "REG-001" / "case.log", "log\n");
  testing::WriteFile(out / "cases" / "REG-001" / "underlay.pcap", "pcap");
  testing::WriteFile(out / "manifest.yaml", "vendor: x\n");
  ASSERT_TRUE(WriteReports(out, SampleRun()).ok());
  ASSERT_TRUE(WriteBundle(out).ok());

  const nlohmann::json results = nlohmann::json::parse(ReadFile(out / "results.json"));
  EXPECT_EQ(ValidateResultsJson(results), std::vector<std::string>{});
  for (const char* name : {"junit.xml", "report.md", "report.html"}) {
    EXPECT_FALSE(ReadFile(out / name).empty()) << name;
  }

  std::set<std::string> on_disk;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(out)) {
    const std::string relative = entry.path().lexically_relative(out).generic_string();
    if (relative == "bundle.tar.gz" || relative == ".nsmcert-output") continue;
    on_disk.insert(entry.is_directory() ? relative + "/" : relative);
  }
  absl::StatusOr<std::vector<TarEntry>> entries = ReadTarGz(out / "bundle.tar.gz");
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::set<std::string> bundled;
  for (const TarEntry& entry : *entries) {
    const std::string path = entry.path.substr(std::string("nsmcert-results/").size());
    if (!path.empty()) bundled.insert(path);
    if (!entry.directory) {
      EXPECT_EQ(entry.contents, ReadFile(out / path)) << path;
    }
  }
  EXPECT_EQ(bundled, on_disk);
  EXPECT_TRUE(bundled.count("cases/REG-001/underlay.pcap"));
  EXPECT_TRUE(bundled.count("results.json"));
}

TEST(OutputDirTest, RerenderReportsFromResultsJson) {
  TempDir dir;
  ASSERT_TRUE(WriteReports(dir.path(), SampleRun()).ok());
  std::filesystem::remove(dir / "report.md");
  testing::WriteFile(dir / "report.html", "stale");
  absl::StatusOr<RunResult> result = RerenderReports(dir.path());
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->cases.size(), 6u);
  EXPECT_NE(ReadFile(dir / "report.md").find("**Verdict: FAIL**"), std::string::npos);
  EXPECT_NE(ReadFile(dir / "report.html").find("<!DOCTYPE html>"), std::string::npos);
}

TEST(OutputDirTest, RerenderRefusesResultsThatBreakTheSchema) {
  TempDir dir;
  nlohmann::json json = ToJson(SampleRun());
  json["cases"][0]["status"] = "maybe";
  testing::WriteFile(dir / "results.json", json.dump());
  absl::StatusOr<RunResult> result = RerenderReports(dir.path());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("/cases/0/status"), absl::string_view::npos)
      << result.status();
  EXPECT_FALSE(std::filesystem::exists(dir / "report.md"));

  testing::WriteFile(dir / "results.json", "{not json");
  EXPECT_NE(RerenderReports(dir.path()).status().message().find("not valid JSON"),
            absl::string_view::npos);
  EXPECT_EQ(RerenderReports(dir / "nowhere").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nsmcert::conformance
