#include "conformance/report/results.h"

#include <gtest/gtest.h>

#include "conformance/report/results_schema.h"
#include "conformance/report/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::MakeCase;
using testing::SampleRun;

TEST(ResultsTest, SummaryCountsAndExitCode) {
  const RunSummary summary = Summarize(SampleRun());
  EXPECT_EQ(summary.total, 6);
  EXPECT_EQ(summary.count(CaseStatus::kPass), 2);
  EXPECT_EQ(summary.count(CaseStatus::kFail), 2);
  EXPECT_EQ(summary.count(CaseStatus::kSkip), 1);
  EXPECT_EQ(summary.count(CaseStatus::kNotApplicable), 1);
  EXPECT_EQ(summary.count(CaseStatus::kError), 0);
  EXPECT_EQ(summary.failed_must, std::vector<std::string>{"REG-002"});
  EXPECT_EQ(summary.exit_code, 1);
  EXPECT_EQ(summary.verdict, "fail");
  EXPECT_EQ(summary.explanation, "the implementation failed 1 MUST case(s): REG-002");
}

TEST(ResultsTest, ExitCodeRules) {
  RunResult run = SampleRun();
  run.cases.erase(run.cases.end() - 1);  // drop the failed MUST case
  EXPECT_EQ(ExitCodeFor(run), 0) << "SHOULD failures, MAY skips and n-a do not fail a run";

  RunResult with_error = run;
  with_error.cases.push_back(
      MakeCase("SEL-001", Area::kSelection, Level::kMay, CaseStatus::kError, "INTERNAL: boom"));
  EXPECT_EQ(ExitCodeFor(with_error), 2) << "a harness error anywhere makes the verdict unusable";

  RunResult with_must_skip = run;
  with_must_skip.cases.push_back(
      MakeCase("SEL-002", Area::kSelection, Level::kMust, CaseStatus::kSkip, "needs root"));
  const RunSummary summary = Summarize(with_must_skip);
  EXPECT_EQ(summary.exit_code, 2);
  EXPECT_EQ(summary.unjudged_must, std::vector<std::string>{"SEL-002"});

  RunResult both = SampleRun();
  both.cases.push_back(
      MakeCase("SEL-001", Area::kSelection, Level::kMust, CaseStatus::kError, "INTERNAL: boom"));
  const RunSummary both_summary = Summarize(both);
  EXPECT_EQ(both_summary.exit_code, 2);
  EXPECT_NE(both_summary.explanation.find("1 MUST case(s) failed: REG-002"), std::string::npos)
      << "the failure is still reported";
}

TEST(ResultsTest, AreaTimesSumCasesAndSpanTheWallClock) {
  const RunSummary summary = Summarize(SampleRun());
  ASSERT_EQ(summary.areas.size(), 5u);
  const AreaSummary& registry = summary.areas[0];
  EXPECT_EQ(registry.area, Area::kRegistry);
  EXPECT_EQ(registry.cases, 2);
  EXPECT_EQ(registry.case_time, absl::Milliseconds(3500));
  EXPECT_EQ(registry.wall_time, absl::Seconds(3));  // REG-001 [0, 1.5] and REG-002 [1, 3] overlap
  EXPECT_EQ(summary.areas[1].area, Area::kConnectivity);
  EXPECT_EQ(summary.areas[1].wall_time, absl::ZeroDuration()) << "n-a cases do not run";
}

TEST(ResultsTest, JsonMatchesTheSchema) {
  const nlohmann::json json = ToJson(SampleRun());
  EXPECT_EQ(ValidateResultsJson(json), std::vector<std::string>{});
  EXPECT_EQ(json["schema_version"], kResultsSchemaVersion);
  EXPECT_EQ(json["summary"]["exit_code"], 1);
  EXPECT_EQ(json["run"]["wall_time_s"], 5.0);
  EXPECT_EQ(json["cases"][4]["id"], "REG-001");
  EXPECT_EQ(json["cases"][4]["duration_s"], 1.5);
  EXPECT_EQ(json["cases"][4]["started_at"], "2027-01-15T08:00:00.000Z");
  EXPECT_EQ(json["cases"][4]["evidence"][1]["path"], "cases/REG-001/underlay.pcap");
  EXPECT_FALSE(json["cases"][0].contains("started_at")) << "n-a cases never started";
}

TEST(ResultsTest, SchemaCatchesWhatIsWrong) {
  nlohmann::json json = ToJson(SampleRun());
  json["cases"][1]["status"] = "passed";
  json["cases"][2].erase("level");
  json["run"]["jobs"] = 0;
  json["surprise"] = true;
  const std::vector<std::string> errors = ValidateResultsJson(json);
  const auto has = [&](const std::string& text) {
    return std::any_of(errors.begin(), errors.end(),
                       [&](const std::string& e) { return e.find(text) != std::string::npos; });
  };
  EXPECT_TRUE(has("/cases/1/status: \"passed\" is not one of")) << ::testing::PrintToString(errors);
  EXPECT_TRUE(has("/cases/2: required property \"level\" is missing"));
  EXPECT_TRUE(has("/run/jobs: 0 is less than the minimum 1"));
  EXPECT_TRUE(has("/: property \"surprise\" is not allowed"));
}

TEST(ResultsTest, JsonRoundTrips) {
  const RunResult run = SampleRun();
  absl::StatusOr<RunResult> back = RunResultFromJson(ToJson(run));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->tool_version, run.tool_version);
  EXPECT_EQ(back->manifest.product, run.manifest.product);
  EXPECT_EQ(back->manifest.roles, run.manifest.roles);
  EXPECT_EQ(back->started, run.started);
  EXPECT_EQ(back->finished, run.finished);
  EXPECT_EQ(back->jobs, 2);
  ASSERT_EQ(back->cases.size(), run.cases.size());
  for (std::size_t i = 0; i < run.cases.size(); ++i) {
    const CaseResult& a = run.cases[i];
    const CaseResult& b = back->cases[i];
    EXPECT_EQ(b.info.id, a.info.id);
    EXPECT_EQ(b.info.level, a.info.level);
    EXPECT_EQ(b.info.area, a.info.area);
    EXPECT_EQ(b.info.features, a.info.features);
    EXPECT_EQ(b.status, a.status);
    EXPECT_EQ(b.message, a.message);
    EXPECT_EQ(b.details, a.details);
    EXPECT_EQ(b.phase, a.phase);
    EXPECT_EQ(b.started, a.started);
    EXPECT_EQ(b.duration, a.duration);
    EXPECT_EQ(b.evidence, a.evidence);
    EXPECT_EQ(b.missing_features, a.missing_features);
  }
  EXPECT_EQ(ExitCodeFor(*back), ExitCodeFor(run));
}

TEST(ResultsTest, FromJsonNamesTheBadField) {
  nlohmann::json json = ToJson(SampleRun());
  json["cases"][3].erase("title");
  EXPECT_EQ(RunResultFromJson(json).status().message(), "case NEG-001.title: missing");

  json = ToJson(SampleRun());
  json["cases"][3]["status"] = "great";
  EXPECT_EQ(RunResultFromJson(json).status().message(), "case NEG-001.status: unknown \"great\"");

  json = ToJson(SampleRun());
  json["schema_version"] = 2;
  EXPECT_NE(RunResultFromJson(json).status().message().find("not supported"),
            absl::string_view::npos);

  json = ToJson(SampleRun());
  json["run"]["started_at"] = "yesterday";
  EXPECT_NE(RunResultFromJson(json).status().message().find("results.run.started_at"),
            absl::string_view::npos);
}

TEST(ResultsTest, StatusNamesRoundTrip) {
  for (CaseStatus status : kAllStatuses) {
    EXPECT_EQ(ParseCaseStatus(CaseStatusName(status)), status);
  }
  EXPECT_EQ(CaseStatusName(CaseStatus::kNotApplicable), "n-a");
}

}  // namespace
}  // namespace nsmcert::conformance
