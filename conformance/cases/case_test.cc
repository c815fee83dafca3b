#include "conformance/cases/case.h"

#include <gtest/gtest.h>

namespace nsmcert::conformance {
namespace {

CaseInfo ValidInfo() {
  CaseInfo info;
  info.id = "REG-001";
  info.title = "NSE register returns expiration";
  info.level = Level::kMust;
  info.area = Area::kRegistry;
  info.features = {"registry.expiry"};
  info.spec = "§8.2, §14 A.1";
  return info;
}

TEST(CaseIdTest, AcceptsAreaSubareaAndThreeDigits) {
  EXPECT_TRUE(IsValidCaseId("REG-001"));
  EXPECT_TRUE(IsValidCaseId("DP-KERNEL-002"));
  EXPECT_TRUE(IsValidCaseId("HEAL-003"));
  EXPECT_TRUE(IsValidCaseId("DP-VXLAN6-010"));
}

TEST(CaseIdTest, RejectsOtherShapes) {
  for (const char* id : {"", "REG", "REG-1", "REG-0001", "reg-001", "REG--001", "-REG-001",
                         "REG-001-", "1REG-001", "REG-00A", "REG_001", "REG 001"}) {
    EXPECT_FALSE(IsValidCaseId(id)) << id;
  }
}

TEST(CaseInfoTest, ValidInfoPasses) { EXPECT_TRUE(ValidateCaseInfo(ValidInfo()).ok()); }

TEST(CaseInfoTest, ErrorsNameTheCaseAndField) {
  CaseInfo info = ValidInfo();
  info.id = "reg-1";
  absl::Status status = ValidateCaseInfo(info);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("case reg-1: id"), absl::string_view::npos) << status;

  info = ValidInfo();
  info.title = "";
  EXPECT_NE(ValidateCaseInfo(info).message().find("REG-001: title"), absl::string_view::npos);

  info = ValidInfo();
  info.title = "two\nlines";
  EXPECT_FALSE(ValidateCaseInfo(info).ok());

  info = ValidInfo();
  info.spec = "";
  EXPECT_NE(ValidateCaseInfo(info).message().find("spec"), absl::string_view::npos);

  info = ValidInfo();
  info.features = {"mechanism.vxaln"};
  status = ValidateCaseInfo(info);
  EXPECT_NE(status.message().find("unknown feature \"mechanism.vxaln\""), absl::string_view::npos)
      << status;

  info = ValidInfo();
  info.features = {"ipv6", "ipv6"};
  EXPECT_NE(ValidateCaseInfo(info).message().find("listed twice"), absl::string_view::npos);

  info = ValidInfo();
  info.timeout = absl::Seconds(-1);
  EXPECT_FALSE(ValidateCaseInfo(info).ok());
}

TEST(CaseEnumsTest, NamesRoundTrip) {
  for (Level level : {Level::kMust, Level::kShould, Level::kMay}) {
    EXPECT_EQ(ParseLevel(LevelName(level)), level);
  }
  EXPECT_EQ(ParseLevel("should"), Level::kShould);
  EXPECT_FALSE(ParseLevel("MUST NOT").has_value());
  for (Area area : kAllAreas) EXPECT_EQ(ParseArea(AreaName(area)), area);
  EXPECT_EQ(ParseArea("Heal"), Area::kHeal);
  EXPECT_FALSE(ParseArea("dataplane").has_value());
  EXPECT_EQ(ParseProfile("core"), Profile::kCore);
  EXPECT_EQ(ParseProfile("FULL"), Profile::kFull);
  EXPECT_FALSE(ParseProfile("quick").has_value());
}

}  // namespace
}  // namespace nsmcert::conformance
