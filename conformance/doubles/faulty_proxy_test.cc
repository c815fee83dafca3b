// The cases of areas B-G against nsmcert-faulty-proxy (a forwarder or an NSE with one deliberate
// fault), run by the real nsmcert binary as a vendor runs them: with the faithful proxy a sample of
// cases passes; with a fault exactly the cases that check the broken behaviour fail, and their
// messages say why. Privileged: every case builds namespaces and starts daemons in them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "conformance/cases/test_util.h"
#include "conformance/runner/test_support.h"

namespace nsmcert::conformance {
namespace {

using testing::TempDir;
using testing::WriteFile;

using testing::SuiteRun;
using testing::WithStatus;

// The cases each double is run against: the forwarder's and the NSE's contract in a few cases.
constexpr char kSample[] = "DP-KERNEL-001,DP-KERNEL-002,DP-VXLAN-001,CTX-002,MON-001,NEG-001";
const std::set<std::string> kSampleIds = {"DP-KERNEL-001", "DP-KERNEL-002", "DP-VXLAN-001",
                                          "CTX-002",       "MON-001",       "NEG-001"};

SuiteRun RunSuite(const TempDir& dir, const std::filesystem::path& manifest) {
  return testing::RunSuite(NSMCERT_BINARY, dir.path(), manifest, kSample, NSMCERT_BUILD_DIR);
}

// A manifest whose `role` (forwarder or nse) is the faulty proxy with `fault` in front of the
// reference daemon `backend`; `env` configures the backend (templates allowed).
std::filesystem::path FaultyManifest(const TempDir& dir, const std::string& role,
                                     const std::string& backend, const std::string& fault,
                                     const std::string& env) {
  const std::filesystem::path path = dir / "faulty.yaml";
  WriteFile(path,
            "vendor: nsmcert tests\nproduct: faulty " + role + "\nversion: \"" + fault +
                "\"\nroles:\n  " + role +
                ":\n    implementation: external\n    command: [\"" NSMCERT_FAULTY_PROXY_BINARY
                "\", --listen, \"{listen_url}\", --connect-to, \"{connect_to}\", "
                "--backend, \"" +
                backend + "\", --work-dir, \"{work_dir}\", --fault, " + fault + "]\n    env:\n" +
                env +
                "    startup_timeout: 30s\n"
                "features: [mechanism.kernel, mechanism.vxlan]\n");
  return path;
}

std::filesystem::path ForwarderManifest(const TempDir& dir, const std::string& fault) {
  return FaultyManifest(dir, "forwarder", NSMCERT_FORWARDER_BINARY, fault,
                        "      NSM_NAME: \"{name}\"\n"
                        "      NSM_TUNNEL_IP: \"{tunnel_ip}\"\n"
                        "      NODE_NAME: \"{node}\"\n");
}

std::filesystem::path EndpointManifest(const TempDir& dir, const std::string& fault) {
  // The cases' default endpoint: service icmp-responder, pool 172.16.1.100/30 (its first pair is
  // the /31 default's).
  return FaultyManifest(dir, "nse", NSMCERT_NSE_BINARY, fault,
                        "      NSM_NAME: \"{name}\"\n"
                        "      NSM_SERVICE_NAMES: icmp-responder\n"
                        "      NSM_CIDR_PREFIX: 172.16.1.100/30\n"
                        "      NSM_PAYLOAD: ETHERNET\n");
}

class FaultyProxyCases : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (namespaces, daemons in them)";
  }
};

void ExpectMessageMentions(const SuiteRun& run, const std::string& id, const std::string& text) {
  const auto it = run.cases.find(id);
  ASSERT_NE(it, run.cases.end()) << id << "\n" << run.console;
  EXPECT_NE(it->second.message.find(text), std::string::npos)
      << id << ": expected the message to mention \"" << text << "\": " << it->second.message;
}

TEST_F(FaultyProxyCases, TheFaithfulForwarderProxyPassesTheSample) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, ForwarderManifest(dir, "none"));
  EXPECT_EQ(run.exit_code, 0) << run.console;
  EXPECT_EQ(WithStatus(run, "pass"), kSampleIds) << run.console;
}

TEST_F(FaultyProxyCases, AForwarderAnnouncingAnotherVniFailsExactlyTheRemoteCase) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, ForwarderManifest(dir, "wrong-vni"));
  EXPECT_EQ(run.exit_code, 1) << run.console;
  EXPECT_EQ(WithStatus(run, "fail"), std::set<std::string>{"DP-VXLAN-001"}) << run.console;
  EXPECT_EQ(WithStatus(run, "pass").size(), kSampleIds.size() - 1) << run.console;
  // It says which VNI each node programmed against the announced one.
  ExpectMessageMentions(run, "DP-VXLAN-001", "VNIs of the VXLAN devices in node-");
  ExpectMessageMentions(run, "DP-VXLAN-001", "the announced VNI is");
}

TEST_F(FaultyProxyCases, TheFaithfulEndpointProxyPassesTheSample) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, EndpointManifest(dir, "none"));
  EXPECT_EQ(run.exit_code, 0) << run.console;
  EXPECT_EQ(WithStatus(run, "pass"), kSampleIds) << run.console;
}

TEST_F(FaultyProxyCases, AnEndpointDroppingItsSegmentFailsTheCasesThatCheckThePath) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, EndpointManifest(dir, "drop-own-segment"));
  EXPECT_EQ(run.exit_code, 1) << run.console;
  // The first two see the short path; the refresh case sees what it causes: the refresh carries a
  // path without the NSE's segment, so the NSE takes it for a new connection with new addresses.
  const std::set<std::string> expected = {"DP-KERNEL-001", "DP-KERNEL-002", "DP-VXLAN-001"};
  EXPECT_EQ(WithStatus(run, "fail"), expected) << run.console;
  EXPECT_EQ(WithStatus(run, "pass").size(), kSampleIds.size() - expected.size()) << run.console;
  ExpectMessageMentions(run, "DP-KERNEL-001", "path segment count");
  ExpectMessageMentions(run, "DP-VXLAN-001", "path segment count");
  ExpectMessageMentions(run, "DP-KERNEL-002", "after refresh");
}

TEST_F(FaultyProxyCases, AnEndpointChangingItsIdOnRefreshFailsTheRefreshCase) {
  TempDir dir;
  SuiteRun run = RunSuite(dir, EndpointManifest(dir, "unstable-id"));
  EXPECT_EQ(run.exit_code, 1) << run.console;
  EXPECT_EQ(WithStatus(run, "fail"), std::set<std::string>{"DP-KERNEL-002"}) << run.console;
  ExpectMessageMentions(run, "DP-KERNEL-002", "id after refresh");
}

}  // namespace
}  // namespace nsmcert::conformance
