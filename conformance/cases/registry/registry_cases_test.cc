// The registry cases, run by the real nsmcert binary (process isolation, as a vendor runs them):
//   - against the reference registry: every case passes;
//   - against nsmcert-faulty-registry (conformance/doubles): with no fault every case passes,
//     with a fault exactly the cases that check the broken behaviour fail, and say why;
//   - against a registry reached at an address: the cases share it and still pass, the restart
//     case is skipped;
//   - without the reference binary: a harness error that says how to fix it.
// No root needed: every registry listens on a unix socket in a temporary directory.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/cases/test_util.h"
#include "conformance/harness/process.h"
#include "conformance/runner/test_support.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

using testing::SuiteRun;
using testing::WithStatus;

// Runs nsmcert on `manifest` with the registry cases (or `filter`) and reads results.json.
SuiteRun RunSuite(const TempDir& dir, const std::filesystem::path& manifest,
                  const std::string& filter = "area:registry",
                  const std::string& bin_dir = NSMCERT_BUILD_DIR) {
  return testing::RunSuite(NSMCERT_BINARY, dir.path(), manifest, filter, bin_dir);
}

// A manifest whose registry is the faulty double with `fault` in front of the reference registry.
std::filesystem::path FaultyManifest(const TempDir& dir, const std::string& fault) {
  const std::filesystem::path path = dir / "faulty.yaml";
  WriteFile(path, std::string("vendor: nsmcert tests\n"
                              "product: faulty registry\n"
                              "version: \"") +
                      fault +
                      "\"\n"
                      "roles:\n"
                      "  registry:\n"
                      "    implementation: external\n"
                      "    command: [\"" NSMCERT_FAULTY_REGISTRY_BINARY
                      "\", --listen, \"{listen_url}\", --backend, \"" NSMCERT_REGISTRY_BINARY
                      "\", --work-dir, \"{work_dir}\", --fault, " +
                      fault +
                      "]\n"
                      "    startup_timeout: 30s\n"
                      "features: [registry.expiry]\n");
  return path;
}

constexpr int kRegistryCaseCount = 13;

TEST(RegistryCases, EveryCasePassesOnTheReferenceRegistry) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, std::filesystem::path(NSMCERT_MANIFEST_DIR) / "reference.yaml");
  EXPECT_EQ(run.exit_code, 0) << run.console;
  EXPECT_EQ(run.cases.size(), static_cast<std::size_t>(kRegistryCaseCount)) << run.console;
  for (const auto& [id, outcome] : run.cases) {
    EXPECT_EQ(outcome.status, "pass") << id << ": " << outcome.message;
  }
  // Evidence: the exchanged messages and the registry's log are filed with each case.
  const std::string exchanges = ReadFile(dir / "out/cases/REG-004/exchanges.json");
  EXPECT_NE(exchanges.find("/registry.NetworkServiceEndpointRegistry/Unregister"),
            std::string::npos);
  EXPECT_NE(exchanges.find("\"deleted\": true"), std::string::npos);
  EXPECT_NE(ReadFile(dir / "out/cases/REG-004/registry.log").find("listening on unix://"),
            std::string::npos);
}

TEST(RegistryCases, TheFaithfulDoublePassesToo) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, FaultyManifest(dir, "none"));
  EXPECT_EQ(run.exit_code, 0) << run.console;
  EXPECT_EQ(WithStatus(run, "pass").size(), static_cast<std::size_t>(kRegistryCaseCount))
      << run.console;
}

TEST(RegistryCases, ARegistryWithoutDeletedEventsFailsExactlyTheCasesThatWatchForThem) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, FaultyManifest(dir, "no-deleted-events"));
  EXPECT_EQ(run.exit_code, 1) << run.console;
  const std::set<std::string> expected_failures = {"REG-003", "REG-004", "REG-006", "REG-013"};
  EXPECT_EQ(WithStatus(run, "fail"), expected_failures) << run.console;
  EXPECT_EQ(WithStatus(run, "pass").size(), kRegistryCaseCount - expected_failures.size())
      << run.console;
  for (const std::string& id : expected_failures) {
    const auto it = run.cases.find(id);
    ASSERT_NE(it, run.cases.end()) << id;
    EXPECT_NE(it->second.message.find("deleted"), std::string::npos)
        << id << ": " << it->second.message;
  }
  // The unregister case says what it expected and what it saw.
  EXPECT_NE(run.cases["REG-004"].message.find("exactly one deleted=true event"), std::string::npos)
      << run.cases["REG-004"].message;
}

TEST(RegistryCases, ARegistryThatForgetsTheRegistrationTimeOnRefreshFailsTheRefreshCase) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, FaultyManifest(dir, "forget-initial-registration-time"));
  EXPECT_EQ(run.exit_code, 1) << run.console;
  EXPECT_EQ(WithStatus(run, "fail"), std::set<std::string>{"REG-002"}) << run.console;
  EXPECT_EQ(WithStatus(run, "pass").size(), static_cast<std::size_t>(kRegistryCaseCount - 1))
      << run.console;
  const std::string& message = run.cases["REG-002"].message;
  EXPECT_NE(message.find("initial_registration_time: expected the first registration's"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("observed (unset)"), std::string::npos) << message;
}

TEST(RegistryCases, ARegistryReachedAtAnAddressIsSharedByTheCasesAndCannotBeRestarted) {
  TempDir dir;
  auto supervisor =
      harness::Supervisor::Create({.log_dir = (dir / "logs").string(), .handle_signals = false});
  ASSERT_TRUE(supervisor.ok()) << supervisor.status();
  const std::string url = "unix://" + (dir / "registry.sock").string();
  harness::ProcessSpec spec;
  spec.name = "registry";
  spec.argv = {NSMCERT_REGISTRY_BINARY};
  spec.env = {{"NSM_LISTEN_ON", url}};
  auto registry = (*supervisor)->Start(spec);
  ASSERT_TRUE(registry.ok()) << registry.status();
  ASSERT_TRUE(
      (*registry)
          ->WaitHealthy({url}, {"registry.NetworkServiceEndpointRegistry"}, absl::Seconds(30))
          .ok());
  const std::filesystem::path manifest = dir / "address.yaml";
  WriteFile(manifest,
            "vendor: nsmcert tests\nproduct: shared registry\nversion: \"1\"\n"
            "roles:\n  registry:\n    implementation: external\n    address: " +
                url + "\nfeatures: [registry.expiry]\n");

  SuiteRun run = RunSuite(dir, manifest);
  // A MUST case that cannot be judged makes the run a harness failure, not a pass.
  EXPECT_EQ(run.exit_code, 2) << run.console;
  EXPECT_EQ(WithStatus(run, "skip"), std::set<std::string>{"REG-012"}) << run.console;
  EXPECT_NE(run.cases["REG-012"].message.find("reached at an address"), std::string::npos);
  EXPECT_EQ(WithStatus(run, "pass").size(), static_cast<std::size_t>(kRegistryCaseCount - 1))
      << run.console;
  EXPECT_TRUE((*registry)->running()) << "the cases must not stop a registry they did not start";
}

TEST(RegistryCases, AMissingReferenceBinaryIsAHarnessErrorThatSaysHowToFixIt) {
  TempDir dir;
  std::filesystem::create_directories(dir / "empty-bin");
  SuiteRun run = RunSuite(dir, std::filesystem::path(NSMCERT_MANIFEST_DIR) / "reference.yaml",
                          "REG-001", (dir / "empty-bin").string());
  EXPECT_EQ(run.exit_code, 2) << run.console;
  ASSERT_EQ(run.cases.count("REG-001"), 1u) << run.console;
  EXPECT_EQ(run.cases["REG-001"].status, "error");
  EXPECT_NE(run.cases["REG-001"].message.find("nsmcert-registry"), std::string::npos)
      << run.cases["REG-001"].message;
  EXPECT_NE(run.cases["REG-001"].message.find("--bin-dir"), std::string::npos)
      << run.cases["REG-001"].message;
}

}  // namespace
}  // namespace nsmcert::conformance
