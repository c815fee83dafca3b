#include "conformance/report/human_report.h"

#include <gtest/gtest.h>

#include "conformance/report/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::MakeCase;
using testing::SampleRun;

std::size_t Find(const std::string& text, const std::string& needle) {
  const std::size_t at = text.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle << "\n" << text;
  return at;
}

TEST(ReportOrderTest, FailingMustFirstThenErrorsThenTheRest) {
  RunResult run = SampleRun();
  run.cases.push_back(
      MakeCase("SEL-001", Area::kSelection, Level::kShould, CaseStatus::kError, "boom"));
  run.cases.push_back(
      MakeCase("AAA-001", Area::kSelection, Level::kMust, CaseStatus::kFail, "wrong"));
  std::vector<std::string> ids;
  for (const CaseResult* c : ReportOrder(run)) ids.push_back(c->info.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"AAA-001", "REG-002", "SEL-001", "MON-001", "HEAL-001",
                                           "NEG-001", "REG-001", "DP-KERNEL-001"}));
}

TEST(MarkdownReportTest, SaysVerdictSummariesAndLinksEvidence) {
  const std::string md = RenderMarkdown(SampleRun());
  Find(md, "**Verdict: FAIL** (exit code 1): the implementation failed 1 MUST case(s): REG-002.");
  Find(md,
       "| Roles | forwarder: reference, nsc: reference, nse: reference, nsmgr: external, "
       "registry: reference |");
  Find(md, "| registry | 2 | 1 | 1 | 0 | 0 | 0 | 3.50s | 3.00s |");
  Find(md, "| **total** | 6 | 2 | 2 | 1 | 1 | 0 | | 5.00s |");
  Find(md, "| MUST | 4 | 2 | 1 | 0 | 1 | 0 |");
  Find(md, "[underlay.pcap](cases/REG-001/underlay.pcap)");
  // The failing MUST case comes before the SHOULD failure and the passes.
  EXPECT_LT(Find(md, "| FAIL | REG-002 |"), Find(md, "| FAIL | MON-001 |"));
  EXPECT_LT(Find(md, "| FAIL | MON-001 |"), Find(md, "| PASS | REG-001 |"));
  // Details list every recorded problem; table cells are escaped.
  Find(md, "- initial\\_registration\\_time: expected set, observed unset");
  Find(md, "reference \\<impl\\> & co");
}

TEST(HtmlReportTest, EscapesTextAndLinksEvidence) {
  const std::string html = RenderHtml(SampleRun());
  Find(html, "<!DOCTYPE html>");
  Find(html, "reference &lt;impl&gt; &amp; co");
  EXPECT_EQ(html.find("reference <impl>"), std::string::npos);
  Find(html,
       "<a href=\"cases/REG-001/underlay.pcap\" title=\"underlay capture\">underlay.pcap</a>");
  Find(html, "class=\"verdict fail\"");
  EXPECT_LT(Find(html, "<tr id=\"REG-002\">"), Find(html, "<tr id=\"REG-001\">"));
  Find(html, "(ended in phase assert)");
}

TEST(HumanReportTest, EmptyRunSaysSo) {
  RunResult run = SampleRun();
  run.cases.clear();
  Find(RenderMarkdown(run), "No case was selected.");
  Find(RenderHtml(run), "No case was selected.");
}

}  // namespace
}  // namespace nsmcert::conformance
