// Test-only: a RunResult with one case of every status, for the report tests.
#ifndef NSMCERT_CONFORMANCE_REPORT_TEST_UTIL_H_
#define NSMCERT_CONFORMANCE_REPORT_TEST_UTIL_H_

#include <string>

#include "conformance/report/results.h"

namespace nsmcert::conformance::testing {

inline CaseResult MakeCase(std::string id, Area area, Level level, CaseStatus status,
                           std::string message = "") {
  CaseResult c;
  c.info.id = std::move(id);
  c.info.title = "title of " + c.info.id;
  c.info.area = area;
  c.info.level = level;
  c.info.spec = "§14";
  c.status = status;
  c.message = std::move(message);
  c.phase = status == CaseStatus::kNotApplicable ? "" : "assert";
  c.timeout = absl::Seconds(120);
  return c;
}

// REG-001 pass, REG-002 fail (MUST), DP-KERNEL-001 n-a, MON-001 fail (SHOULD), HEAL-001 skip
// (MAY), NEG-001 pass; started 1'800'000'000 s after the epoch, one second per case.
inline RunResult SampleRun() {
  RunResult run;
  run.tool_version = "0.1.0";
  run.manifest.path = "fixtures/manifests/reference.yaml";
  run.manifest.vendor = "nsmcert project";
  run.manifest.product = "reference <impl> & co";
  run.manifest.version = "0.1.0";
  run.manifest.roles = {{"registry", "reference"},
                        {"nsmgr", "external"},
                        {"forwarder", "reference"},
                        {"nse", "reference"},
                        {"nsc", "reference"}};
  run.manifest.features = {"mechanism.kernel", "mechanism.vxlan"};
  run.profile = Profile::kCore;
  run.jobs = 2;
  run.isolation = "process";
  run.default_timeout = absl::Seconds(120);
  run.host = "Linux 6.1.0 x86_64";
  run.started = absl::FromUnixSeconds(1'800'000'000);
  run.finished = run.started + absl::Seconds(5);

  const absl::Time t0 = run.started;
  CaseResult reg1 = MakeCase("REG-001", Area::kRegistry, Level::kMust, CaseStatus::kPass);
  reg1.started = t0;
  reg1.duration = absl::Milliseconds(1500);
  reg1.evidence = {{EvidenceKind::kLog, "cases/REG-001/case.log", "the case's log"},
                   {EvidenceKind::kPcap, "cases/REG-001/underlay.pcap", "underlay capture"}};
  CaseResult reg2 = MakeCase("REG-002", Area::kRegistry, Level::kMust, CaseStatus::kFail,
                             "expiration_time: expected <= 60s, observed \"90s\" (and 1 more)");
  reg2.details = {"expiration_time: expected <= 60s, observed \"90s\"",
                  "initial_registration_time: expected set, observed unset"};
  reg2.started = t0 + absl::Seconds(1);
  reg2.duration = absl::Seconds(2);
  CaseResult dp = MakeCase("DP-KERNEL-001", Area::kConnectivity, Level::kMust,
                           CaseStatus::kNotApplicable, "the manifest does not claim feature ipv6");
  dp.info.features = {"ipv6"};
  dp.missing_features = {"ipv6"};
  CaseResult mon = MakeCase("MON-001", Area::kMonitor, Level::kShould, CaseStatus::kFail,
                            "first event: expected INITIAL_STATE_TRANSFER, observed UPDATE");
  mon.started = t0 + absl::Seconds(2);
  mon.duration = absl::Seconds(1);
  CaseResult heal =
      MakeCase("HEAL-001", Area::kHeal, Level::kMay, CaseStatus::kSkip, "needs two forwarders");
  heal.phase = "arrange";
  heal.started = t0 + absl::Seconds(3);
  heal.duration = absl::Milliseconds(10);
  CaseResult neg = MakeCase("NEG-001", Area::kNegative, Level::kMust, CaseStatus::kPass);
  neg.started = t0 + absl::Seconds(3);
  neg.duration = absl::Seconds(1);
  run.cases = {dp, heal, mon, neg, reg1, reg2};  // sorted by id
  return run;
}

}  // namespace nsmcert::conformance::testing

#endif  // NSMCERT_CONFORMANCE_REPORT_TEST_UTIL_H_
