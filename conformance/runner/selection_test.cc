#include "conformance/runner/selection.h"

#include <gtest/gtest.h>

#include "conformance/cases/function_case.h"

namespace nsmcert::conformance {
namespace {

TEST(GlobTest, MatchesStarsAndQuestionMarksIgnoringCase) {
  EXPECT_TRUE(GlobMatches("REG-*", "REG-001"));
  EXPECT_TRUE(GlobMatches("reg-*", "REG-001"));
  EXPECT_TRUE(GlobMatches("*-00?", "DP-KERNEL-002"));
  EXPECT_TRUE(GlobMatches("DP-*-002", "DP-KERNEL-002"));
  EXPECT_TRUE(GlobMatches("*", ""));
  EXPECT_TRUE(GlobMatches("**A*", "xxA"));
  EXPECT_FALSE(GlobMatches("REG-*", "DP-REG-001"));
  EXPECT_FALSE(GlobMatches("REG-00?", "REG-0010"));
  EXPECT_FALSE(GlobMatches("", "x"));
}

class SelectionTest : public ::testing::Test {
 protected:
  SelectionTest() {
    Add("REG-001", Area::kRegistry, Level::kMust, {}, Profile::kCore);
    Add("REG-002", Area::kRegistry, Level::kShould, {"registry.expiry"}, Profile::kCore);
    Add("REG-003", Area::kRegistry, Level::kMust, {}, Profile::kFull);
    Add("MON-001", Area::kMonitor, Level::kMust, {}, Profile::kCore);
    Add("DP-KERNEL-001", Area::kConnectivity, Level::kMust, {"mechanism.kernel"}, Profile::kCore);
    Add("DP-VXLAN-001", Area::kConnectivity, Level::kMay, {"mechanism.vxlan", "ipv6"},
        Profile::kFull);
  }

  void Add(const char* id, Area area, Level level, std::vector<std::string> features,
           Profile profile) {
    CaseInfo info;
    info.id = id;
    info.title = id;
    info.area = area;
    info.level = level;
    info.features = std::move(features);
    info.profile = profile;
    info.spec = "§14";
    ASSERT_TRUE(registry_.Register(info, FunctionCaseFactory({}, {}, {})).ok());
  }

  std::vector<std::string> Select(Profile profile, const std::string& filter) {
    absl::StatusOr<CaseFilter> parsed = CaseFilter::Parse(filter);
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    std::vector<std::string> ids;
    if (!parsed.ok()) return ids;
    for (const CaseEntry* entry : SelectCases(registry_.Entries(), profile, *parsed)) {
      ids.push_back(entry->info.id);
    }
    return ids;
  }

  CaseRegistry registry_;
};

using Ids = std::vector<std::string>;

TEST_F(SelectionTest, ProfilesCoreAndFull) {
  EXPECT_EQ(Select(Profile::kCore, ""), (Ids{"DP-KERNEL-001", "MON-001", "REG-001", "REG-002"}));
  EXPECT_EQ(Select(Profile::kFull, "").size(), 6u);
}

TEST_F(SelectionTest, IdGlobs) {
  EXPECT_EQ(Select(Profile::kFull, "REG-*"), (Ids{"REG-001", "REG-002", "REG-003"}));
  EXPECT_EQ(Select(Profile::kFull, "id:DP-*-001, MON-001"),
            (Ids{"DP-KERNEL-001", "DP-VXLAN-001", "MON-001"}));
  EXPECT_EQ(Select(Profile::kFull, "nothing-*"), Ids{});
}

TEST_F(SelectionTest, SameKindOrKindsAnd) {
  EXPECT_EQ(Select(Profile::kFull, "area:registry,area:monitor,level:MUST"),
            (Ids{"MON-001", "REG-001", "REG-003"}));
  EXPECT_EQ(Select(Profile::kFull, "level:must,REG-*"), (Ids{"REG-001", "REG-003"}));
  EXPECT_EQ(Select(Profile::kFull, "feature:ipv6"), Ids{"DP-VXLAN-001"});
}

TEST_F(SelectionTest, ExclusionsWin) {
  EXPECT_EQ(Select(Profile::kCore, "!REG-001"), (Ids{"DP-KERNEL-001", "MON-001", "REG-002"}));
  EXPECT_EQ(Select(Profile::kFull, "area:registry, !level:SHOULD, !REG-003"), Ids{"REG-001"});
}

TEST(CaseFilterTest, BadTermsAreErrorsQuotingTheTerm) {
  for (const auto& [filter, error] : std::vector<std::pair<std::string, std::string>>{
           {"area:dataplane", "filter term \"area:dataplane\": unknown area"},
           {"level:MUST NOT", "unknown level"},
           {"feature:teleport", "unknown feature"},
           {"colour:blue", "unknown kind \"colour\""},
           {"REG-*,,MON-*", "empty term"},
           {"REG-*,", "empty term"},
           {"area:", "nothing after the kind"},
       }) {
    absl::StatusOr<CaseFilter> parsed = CaseFilter::Parse(filter);
    ASSERT_FALSE(parsed.ok()) << filter;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(parsed.status().message().find(error), absl::string_view::npos)
        << parsed.status() << " for " << filter;
  }
  EXPECT_TRUE(CaseFilter::Parse("  ").ok());
}

}  // namespace
}  // namespace nsmcert::conformance
