// RoleLauncher against real processes, without root: harness_health_server stands in for a
// daemon (it serves only gRPC health), started as an external command, as a "reference" binary
// found through the bin dir (a script that execs it), or already running at an address.
#include "conformance/cases/roles.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <memory>
#include <string>

#include "absl/time/clock.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::WriteFile;

constexpr char kRegistryServices[] =
    "\"--service=registry.NetworkServiceRegistry\", "
    "\"--service=registry.NetworkServiceEndpointRegistry\"";

void MakeExecutable(const std::filesystem::path& path, const std::string& text) {
  WriteFile(path, text);
  ASSERT_EQ(chmod(path.c_str(), 0755), 0);
}

// Waits (real time, bounded) until `file` contains `text`: a daemon's stdout may reach its log a
// moment after it reports healthy.
bool EventuallyContains(const std::filesystem::path& file, const std::string& text) {
  const absl::Time until = absl::Now() + absl::Seconds(10);
  while (absl::Now() < until) {
    if (ReadFile(file).find(text) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

class RolesTest : public ::testing::Test {
 protected:
  RolesTest() : evidence_(dir_.path(), "cases/REG-900"), log_(dir_ / "case.log", clock_) {
    info_.id = "REG-900";
  }

  // A context over `manifest_yaml` whose reference binaries are in `bin_dir`.
  CaseContext& Context(const std::string& manifest_yaml,
                       const std::filesystem::path& bin_dir = {}) {
    auto manifest = ParseManifest(manifest_yaml, "test.yaml");
    EXPECT_TRUE(manifest.ok()) << manifest.status();
    manifest_ = *manifest;
    RoleSettings settings;
    settings.bin_dir = bin_dir;
    context_ = std::make_unique<CaseContext>(info_, manifest_, evidence_, log_, clock_,
                                             clock_.Now() + absl::Seconds(60), cancelled_,
                                             /*runs_in_own_process=*/false, settings);
    return *context_;
  }

  static std::string ExternalRegistry(const std::string& command_args,
                                      const std::string& extra = "") {
    return std::string(
               "vendor: v\nproduct: p\nversion: \"1\"\nroles:\n  registry:\n"
               "    implementation: external\n    command: [\"") +
           NSMCERT_HEALTH_SERVER + "\", " + command_args + "]\n" + extra;
  }

  TempDir dir_;
  const Clock& clock_ = Clock::Real();
  CaseInfo info_;
  Manifest manifest_;
  CancellationFlag cancelled_{false};
  EvidenceRecorder evidence_;
  CaseLog log_;
  std::unique_ptr<CaseContext> context_;
};

TEST(FindReferenceBinaryTest, LooksInTheBinDirThenInItsBuildTreeLayout) {
  TempDir dir;
  RoleSettings settings;
  settings.bin_dir = dir.path();
  auto missing = FindReferenceBinary(Role::kRegistry, settings);
  ASSERT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find((dir / "nsmcert-registry").string()), std::string::npos)
      << missing.status();
  EXPECT_NE(missing.status().message().find("--bin-dir"), std::string::npos);

  std::filesystem::create_directories(dir / "reference/cmd/nsmgr");
  MakeExecutable(dir / "reference/cmd/nsmgr/nsmcert-nsmgr", "#!/bin/sh\n");
  auto in_tree = FindReferenceBinary(Role::kNsmgr, settings);
  ASSERT_TRUE(in_tree.ok()) << in_tree.status();
  EXPECT_EQ(*in_tree, dir / "reference/cmd/nsmgr/nsmcert-nsmgr");

  MakeExecutable(dir / "nsmcert-nsmgr", "#!/bin/sh\n");
  EXPECT_EQ(*FindReferenceBinary(Role::kNsmgr, settings), dir / "nsmcert-nsmgr");

  // Present but not executable does not count.
  WriteFile(dir / "nsmcert-nse", "");
  EXPECT_EQ(FindReferenceBinary(Role::kNse, settings).status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RolesTest, ExternalCommandRunsWithExpandedTemplatesAndItsLogIsEvidence) {
  CaseContext& context = Context(ExternalRegistry(
      std::string("\"--listen={listen_url}\", ") + kRegistryServices,
      "    env:\n      NSMCERT_TEST_GREETING: \"{name} on {node} in {work_dir}\"\n"));
  auto role = context.roles().StartRegistry();
  ASSERT_TRUE(role.ok()) << role.status();
  const std::filesystem::path work_dir = (*role)->work_dir();
  EXPECT_EQ((*role)->url(), "unix://" + (work_dir / "registry.sock").string());
  EXPECT_EQ((*role)->implementation(), Implementation::kExternal);
  EXPECT_TRUE((*role)->supervised());
  EXPECT_TRUE((*role)->running());
  EXPECT_TRUE(EventuallyContains(dir_ / "registry.log",
                                 "greeting: registry on host in " + work_dir.string()))
      << ReadFile(dir_ / "registry.log");
  ASSERT_EQ(evidence_.Entries().size(), 1u);
  EXPECT_EQ(evidence_.Entries()[0].path, "cases/REG-900/registry.log");
  EXPECT_EQ(evidence_.Entries()[0].kind, EvidenceKind::kLog);

  ASSERT_TRUE((*role)->Kill().ok());
  EXPECT_FALSE((*role)->running());
  ASSERT_TRUE((*role)->Restart(absl::Seconds(30)).ok());
  EXPECT_TRUE((*role)->running());

  role->reset();
  EXPECT_FALSE(std::filesystem::exists(work_dir));
  EXPECT_NE(ReadFile(dir_ / "registry.log").find("start #2"), std::string::npos);
}

TEST_F(RolesTest, ReferenceRoleIsFoundInTheBinDirAndConfiguredThroughNsmVariables) {
  const std::filesystem::path bin = dir_ / "bin";
  std::filesystem::create_directories(bin);
  MakeExecutable(bin / "nsmcert-registry",
                 std::string("#!/bin/sh\necho \"name=$NSM_NAME expire=$NSM_EXPIRE_PERIOD\"\n"
                             "exec \"") +
                     NSMCERT_HEALTH_SERVER +
                     "\" --listen=\"$NSM_LISTEN_ON\" "
                     "--service=registry.NetworkServiceRegistry "
                     "--service=registry.NetworkServiceEndpointRegistry\n");
  CaseContext& context = Context("vendor: v\nproduct: p\nversion: \"1\"\n", bin);
  RoleStartOptions options;
  options.name = "registry-a";
  options.reference_env = {{"NSM_EXPIRE_PERIOD", "5s"}};
  auto role = context.roles().StartRegistry(options);
  ASSERT_TRUE(role.ok()) << role.status();
  EXPECT_EQ((*role)->implementation(), Implementation::kReference);
  EXPECT_TRUE(EventuallyContains(dir_ / "registry-a.log", "name=registry-a expire=5s"))
      << ReadFile(dir_ / "registry-a.log");
}

TEST_F(RolesTest, UpstreamVariablesReachExternalCommandsUnderTheManifestsEnv) {
  const std::filesystem::path script = dir_ / "vendor-registry";
  MakeExecutable(script, std::string("#!/bin/sh\n"
                                     "echo \"services=$NSM_SERVICE_NAMES cidr=$NSM_CIDR_PREFIX "
                                     "reference-only=${NSMCERT_REFERENCE_ONLY:-unset}\"\n"
                                     "exec \"") +
                             NSMCERT_HEALTH_SERVER + "\" \"$@\"\n");
  CaseContext& context =
      Context(std::string("vendor: v\nproduct: p\nversion: \"1\"\nroles:\n  registry:\n"
                          "    implementation: external\n    command: [\"") +
              script.string() + "\", \"--listen={listen_url}\", " + kRegistryServices +
              "]\n    env:\n      NSM_CIDR_PREFIX: \"10.9.0.0/24\"\n");
  RoleStartOptions options;
  options.upstream_env = {{"NSM_SERVICE_NAMES", "a,b"}, {"NSM_CIDR_PREFIX", "172.16.1.100/31"}};
  options.reference_env = {{"NSMCERT_REFERENCE_ONLY", "set"}};
  auto role = context.roles().StartRegistry(options);
  ASSERT_TRUE(role.ok()) << role.status();
  // The case's services arrive; the manifest's CIDR wins; reference-only settings stay out.
  EXPECT_TRUE(EventuallyContains(dir_ / "registry.log",
                                 "services=a,b cidr=10.9.0.0/24 reference-only=unset"))
      << ReadFile(dir_ / "registry.log");
}

TEST_F(RolesTest, AMissingReferenceBinaryIsAHarnessError) {
  CaseContext& context = Context("vendor: v\nproduct: p\nversion: \"1\"\n", dir_.path());
  auto role = context.roles().StartRegistry();
  ASSERT_FALSE(role.ok());
  EXPECT_EQ(ClassifyPhaseStatus(role.status()), PhaseOutcome::kHarnessError);
  EXPECT_NE(role.status().message().find("nsmcert-registry"), std::string::npos);
}

TEST_F(RolesTest, AnExternalRoleThatNeverReportsHealthyFailsTheCase) {
  CaseContext& context = Context(ExternalRegistry(
      std::string("\"--listen={listen_url}\", \"--not-serving\", ") + kRegistryServices,
      "    startup_timeout: 1s\n"));
  auto role = context.roles().StartRegistry();
  ASSERT_FALSE(role.ok());
  EXPECT_EQ(ClassifyPhaseStatus(role.status()), PhaseOutcome::kFailure) << role.status();
  EXPECT_NE(role.status().message().find("did not report"), std::string::npos) << role.status();
  EXPECT_NE(role.status().message().find("NOT_SERVING"), std::string::npos) << role.status();
}

TEST_F(RolesTest, ATemplateWithoutAValueNamesTheFieldAndTheVariable) {
  CaseContext& context = Context(ExternalRegistry("\"--listen={listen_url}\", \"{tunnel_ip}\""));
  auto role = context.roles().StartRegistry();
  ASSERT_EQ(role.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(role.status().message().find("roles.registry.command[2]"), std::string::npos)
      << role.status();
  EXPECT_NE(role.status().message().find("tunnel_ip"), std::string::npos) << role.status();
}

TEST_F(RolesTest, AnAddressRoleIsReachedButNeitherStartedNorKilled) {
  auto supervisor =
      harness::Supervisor::Create({.log_dir = (dir_ / "own").string(), .handle_signals = false});
  ASSERT_TRUE(supervisor.ok());
  const std::string url = "unix://" + (dir_ / "registry.sock").string();
  harness::ProcessSpec spec;
  spec.name = "running-registry";
  spec.argv = {NSMCERT_HEALTH_SERVER, "--listen=" + url,
               "--service=registry.NetworkServiceRegistry",
               "--service=registry.NetworkServiceEndpointRegistry"};
  auto process = (*supervisor)->Start(spec);
  ASSERT_TRUE(process.ok()) << process.status();

  CaseContext& context = Context(
      "vendor: v\nproduct: p\nversion: \"1\"\nroles:\n  registry:\n"
      "    implementation: external\n    address: \"unix://" +
      dir_.path().string() + "/{name}.sock\"\n");
  auto role = context.roles().StartRegistry();
  ASSERT_TRUE(role.ok()) << role.status();
  EXPECT_EQ((*role)->url(), url);
  EXPECT_FALSE((*role)->supervised());
  EXPECT_EQ((*role)->Kill().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*role)->Restart(absl::Seconds(1)).code(), absl::StatusCode::kFailedPrecondition);
  role->reset();
  EXPECT_TRUE((*process)->running());
  EXPECT_TRUE(evidence_.Entries().empty());
}

}  // namespace
}  // namespace nsmcert::conformance
