#include "conformance/report/junit_report.h"

#include <gtest/gtest.h>

#include "conformance/report/test_util.h"
#include "conformance/report/xml_check.h"

namespace nsmcert::conformance {
namespace {

using testing::MakeCase;
using testing::ParseXml;
using testing::SampleRun;
using testing::XmlElement;

TEST(JunitReportTest, WellFormedWithOneSuitePerAreaAndOneCasePerCase) {
  const std::string xml = RenderJunit(SampleRun());
  absl::StatusOr<XmlElement> root = ParseXml(xml);
  ASSERT_TRUE(root.ok()) << root.status() << "\n" << xml;
  EXPECT_EQ(root->name, "testsuites");
  EXPECT_EQ(root->attributes.at("tests"), "6");
  EXPECT_EQ(root->attributes.at("failures"), "2");
  EXPECT_EQ(root->attributes.at("errors"), "0");
  EXPECT_EQ(root->attributes.at("skipped"), "2");
  EXPECT_EQ(root->attributes.at("time"), "5.000");

  const auto suites = root->FindAll("testsuite");
  ASSERT_EQ(suites.size(), 5u);
  EXPECT_EQ(suites[0]->attributes.at("name"), "registry");
  EXPECT_EQ(suites[0]->attributes.at("tests"), "2");
  EXPECT_EQ(suites[0]->attributes.at("failures"), "1");
  EXPECT_EQ(root->FindAll("testcase").size(), 6u);

  const auto failures = root->FindAll("failure");
  ASSERT_EQ(failures.size(), 2u);
  // REG-002 (registry suite) carries every detail and its level as the type.
  const XmlElement* reg2 = failures[0];
  EXPECT_EQ(reg2->attributes.at("type"), "MUST");
  EXPECT_EQ(reg2->attributes.at("message"),
            "expiration_time: expected <= 60s, observed \"90s\" (and 1 more)");
  EXPECT_NE(reg2->text.find("initial_registration_time: expected set"), std::string::npos);

  const auto skipped = root->FindAll("skipped");
  ASSERT_EQ(skipped.size(), 2u);
  EXPECT_EQ(skipped[0]->attributes.at("message"),
            "not applicable: the manifest does not claim feature ipv6");
  const auto outputs = root->FindAll("system-out");
  ASSERT_EQ(outputs.size(), 1u);
  EXPECT_NE(outputs[0]->text.find("cases/REG-001/underlay.pcap"), std::string::npos);
}

TEST(JunitReportTest, ErrorsAndHostileTextStayWellFormed) {
  RunResult run = SampleRun();
  run.cases.push_back(MakeCase("SEL-001", Area::kSelection, Level::kMust, CaseStatus::kError,
                               std::string("INTERNAL: <oops> & \"quotes\" 'too'\n\x01\x7f bad "
                                           "utf8 \xc3\x28 \xff end ✓")));
  run.manifest.product = "]]> <!-- & -->";
  const std::string xml = RenderJunit(run);
  absl::StatusOr<XmlElement> root = ParseXml(xml);
  ASSERT_TRUE(root.ok()) << root.status() << "\n" << xml;
  const auto errors = root->FindAll("error");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0]->attributes.at("type"), "harness");
  EXPECT_EQ(errors[0]->attributes.at("message"),
            "INTERNAL: <oops> & \"quotes\" 'too'\n\xEF\xBF\xBD\xEF\xBF\xBD bad utf8 \xEF\xBF\xBD( "
            "\xEF\xBF\xBD end ✓");
}

TEST(JunitReportTest, EmptyRunIsStillAValidFile) {
  RunResult run = SampleRun();
  run.cases.clear();
  absl::StatusOr<XmlElement> root = ParseXml(RenderJunit(run));
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->attributes.at("tests"), "0");
  EXPECT_TRUE(root->children.empty());
}

TEST(XmlCheckTest, RejectsMalformedXml) {
  EXPECT_TRUE(ParseXml("<a x=\"1\"><b/>t &amp; &#65;</a>").ok());
  for (const char* bad :
       {"<a>", "<a></b>", "<a x=1/>", "<a x=\"1\" x=\"2\"/>", "<a>&nope;</a>", "<a>1 < 2</a>",
        "<a/><b/>", "<a>\x01</a>", "<a>\xff</a>", "<a>&#1;</a>"}) {
    EXPECT_FALSE(ParseXml(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace nsmcert::conformance
