#include "conformance/cases/registry.h"

#include <gtest/gtest.h>

#include "conformance/cases/function_case.h"

namespace nsmcert::conformance {
namespace {

CaseInfo Info(std::string id, std::string title = "a case") {
  CaseInfo info;
  info.id = std::move(id);
  info.title = std::move(title);
  info.spec = "§14";
  return info;
}

CaseFactory Nothing() { return FunctionCaseFactory({}, {}, {}); }

TEST(CaseRegistryTest, ListsCasesSortedById) {
  CaseRegistry registry;
  ASSERT_TRUE(registry.Register(Info("REG-002"), Nothing()).ok());
  ASSERT_TRUE(registry.Register(Info("DP-KERNEL-001"), Nothing()).ok());
  ASSERT_TRUE(registry.Register(Info("REG-001"), Nothing()).ok());
  std::vector<std::string> ids;
  for (const CaseEntry* entry : registry.Entries()) ids.push_back(entry->info.id);
  EXPECT_EQ(ids, (std::vector<std::string>{"DP-KERNEL-001", "REG-001", "REG-002"}));
  ASSERT_NE(registry.Find("REG-002"), nullptr);
  EXPECT_EQ(registry.Find("REG-002")->info.id, "REG-002");
  EXPECT_EQ(registry.Find("REG-003"), nullptr);
}

TEST(CaseRegistryTest, RefusesDuplicatesInvalidInfoAndMissingFactory) {
  CaseRegistry registry;
  ASSERT_TRUE(registry.Register(Info("REG-001", "first"), Nothing()).ok());
  const absl::Status duplicate = registry.Register(Info("REG-001", "second"), Nothing());
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(duplicate.message().find("registered twice (\"first\" and \"second\")"),
            absl::string_view::npos)
      << duplicate;
  EXPECT_FALSE(registry.Register(Info("bad id"), Nothing()).ok());
  EXPECT_FALSE(registry.Register(Info("REG-009"), nullptr).ok());
  EXPECT_EQ(registry.Entries().size(), 1u);
}

TEST(CaseRegistryTest, RegisterOrRecordKeepsErrors) {
  CaseRegistry registry;
  registry.RegisterOrRecord(Info("REG-001"), Nothing());
  registry.RegisterOrRecord(Info("REG-001"), Nothing());
  registry.RegisterOrRecord(Info("nope"), Nothing());
  EXPECT_EQ(registry.Entries().size(), 1u);
  EXPECT_EQ(registry.errors().size(), 2u);
}

TEST(CaseRegistryTest, FactoryMakesFreshCases) {
  CaseRegistry registry;
  ASSERT_TRUE(registry.Register(Info("REG-001"), Nothing()).ok());
  const CaseEntry* entry = registry.Find("REG-001");
  std::unique_ptr<Case> a = entry->factory();
  std::unique_ptr<Case> b = entry->factory();
  ASSERT_NE(a, nullptr);
  EXPECT_NE(a.get(), b.get());
}

// Static registration through the macro, as catalogue files do.
class MacroRegisteredCase : public Case {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "TESTREG-001";
    info.title = "registered with NSMCERT_REGISTER_CASE";
    info.level = Level::kShould;
    info.area = Area::kMonitor;
    info.spec = "§7";
    return info;
  }
  absl::Status Act(CaseContext&) override { return absl::OkStatus(); }
};
NSMCERT_REGISTER_CASE(MacroRegisteredCase);

TEST(CaseRegistryTest, MacroRegistersInTheGlobalCatalogue) {
  const CaseEntry* entry = CaseRegistry::Global().Find("TESTREG-001");
  ASSERT_NE(entry, nullptr);
  EXPECT_EQ(entry->info.level, Level::kShould);
  EXPECT_EQ(entry->info.area, Area::kMonitor);
  EXPECT_NE(dynamic_cast<MacroRegisteredCase*>(entry->factory().get()), nullptr);
  EXPECT_TRUE(CaseRegistry::Global().errors().empty());
}

}  // namespace
}  // namespace nsmcert::conformance
