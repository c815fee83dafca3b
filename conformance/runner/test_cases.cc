// Test-only catalogue: cases that exercise the runner, not an implementation. Linked into
// nsmcert_testcases (nsmcert with this catalogue) and the runner tests, never into nsmcert.
//
//   TEST-PASS-001   MUST registry      passes, leaving a note and a fake capture as evidence
//   TEST-FULL-001   MUST registry      passes; profile full
//   TEST-FAIL-001   MUST connectivity  fails: "path segment count: expected 4, observed 3"
//   TEST-SOFT-001   SHOULD monitor     fails two soft checks
//   TEST-THROW-001  MUST negative      throws in Act
//   TEST-ERROR-001  MUST negative      Arrange returns a plain (harness) error
//   TEST-HANG-001   MUST heal          waits in Act until cancelled (timeout 1s)
//   TEST-STUCK-001  MUST heal          ignores cancellation (process isolation only; 1s)
//   TEST-CRASH-001  MUST negative      aborts (process isolation only)
//   TEST-NA-001     MUST context       needs ipv6 and mechanism.wireguard
//   TEST-SKIP-001   MAY selection      skips: "needs two forwarders"
//   TEST-SKIP-002   MUST selection     skips
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance {
namespace {

CaseInfo MakeInfo(const char* id, const char* title, Level level, Area area,
                  std::vector<std::string> features = {}, Profile profile = Profile::kCore) {
  CaseInfo info;
  info.id = id;
  info.title = title;
  info.level = level;
  info.area = area;
  info.features = std::move(features);
  info.spec = "test-only";
  info.profile = profile;
  return info;
}

class PassCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-PASS-001", "passes with evidence", Level::kMust, Area::kRegistry);
  }
  absl::Status Act(CaseContext& context) override {
    context.log().Write("doing the stimulus");
    NSMCERT_CASE_RETURN_IF_ERROR(context.evidence().WriteText(
        EvidenceKind::kNote, "observation.txt", "segments: 4\n", "what the reply held"));
    NSMCERT_CASE_RETURN_IF_ERROR(context.evidence().WriteText(
        EvidenceKind::kPcap, "underlay.pcap", "not really a pcap", "underlay capture"));
    return context.evidence().WriteText(EvidenceKind::kData, "reply.json", "{}", "the reply");
  }
  absl::Status Assert(CaseContext&) override { return ExpectEq("segments", 4, 4); }
};
NSMCERT_REGISTER_CASE(PassCase);

class FullProfileCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-FULL-001", "passes, full profile only", Level::kMust, Area::kRegistry, {},
                    Profile::kFull);
  }
  absl::Status Act(CaseContext&) override { return absl::OkStatus(); }
};
NSMCERT_REGISTER_CASE(FullProfileCase);

class FailCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-FAIL-001", "fails an assertion", Level::kMust, Area::kConnectivity);
  }
  absl::Status Act(CaseContext&) override { return absl::OkStatus(); }
  absl::Status Assert(CaseContext&) override { return ExpectEq("path segment count", 4, 3); }
};
NSMCERT_REGISTER_CASE(FailCase);

class SoftCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-SOFT-001", "fails two soft checks", Level::kShould, Area::kMonitor);
  }
  absl::Status Act(CaseContext&) override { return absl::OkStatus(); }
  absl::Status Assert(CaseContext& context) override {
    context.Check(ExpectEq("first event", std::string("INITIAL_STATE_TRANSFER"), "UPDATE"));
    context.Check(ExpectEq("entries", 2, 2));
    context.Check(ExpectEq("entries after close", 0, 1));
    return absl::OkStatus();
  }
};
NSMCERT_REGISTER_CASE(SoftCase);

class ThrowCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-THROW-001", "throws", Level::kMust, Area::kNegative);
  }
  absl::Status Act(CaseContext&) override { throw std::runtime_error("boom"); }
};
NSMCERT_REGISTER_CASE(ThrowCase);

class ErrorCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-ERROR-001", "setup fails", Level::kMust, Area::kNegative);
  }
  absl::Status Arrange(CaseContext&) override {
    return absl::UnavailableError("cannot create namespace nsmc-x-node-a");
  }
  absl::Status Act(CaseContext&) override { return absl::OkStatus(); }
};
NSMCERT_REGISTER_CASE(ErrorCase);

class HangCase : public Case {
 public:
  static CaseInfo Info() {
    CaseInfo info = MakeInfo("TEST-HANG-001", "waits until cancelled", Level::kMust, Area::kHeal);
    info.timeout = absl::Seconds(1);  // its own timeout, shorter than any run's default
    return info;
  }
  absl::Status Act(CaseContext& context) override {
    // Polls like a case waiting for an event that never comes, with cancellation honoured.
    while (!context.cancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return CaseFailure("no heal observed before cancellation");
  }
};
NSMCERT_REGISTER_CASE(HangCase);

class StuckCase : public Case {
 public:
  static CaseInfo Info() {
    CaseInfo info = MakeInfo("TEST-STUCK-001", "ignores cancellation", Level::kMust, Area::kHeal);
    info.timeout = absl::Seconds(1);
    return info;
  }
  absl::Status Act(CaseContext& context) override {
    if (!context.runs_in_own_process()) return CaseSkip("needs process isolation");
    while (true) pause();  // SIGTERM only sets the cancellation flag; SIGKILL ends this
  }
};
NSMCERT_REGISTER_CASE(StuckCase);

class CrashCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-CRASH-001", "aborts", Level::kMust, Area::kNegative);
  }
  absl::Status Act(CaseContext& context) override {
    if (!context.runs_in_own_process()) return CaseSkip("needs process isolation");
    context.log().Write("about to abort");
    std::abort();
  }
};
NSMCERT_REGISTER_CASE(CrashCase);

class NotApplicableCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-NA-001", "needs unclaimed features", Level::kMust, Area::kContext,
                    {"ipv6", "mechanism.wireguard"});
  }
  absl::Status Act(CaseContext&) override { return absl::InternalError("must never run"); }
};
NSMCERT_REGISTER_CASE(NotApplicableCase);

class SkipCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-SKIP-001", "skips", Level::kMay, Area::kSelection);
  }
  absl::Status Arrange(CaseContext&) override { return CaseSkip("needs two forwarders"); }
  absl::Status Act(CaseContext&) override { return absl::InternalError("must never run"); }
};
NSMCERT_REGISTER_CASE(SkipCase);

class MustSkipCase : public Case {
 public:
  static CaseInfo Info() {
    return MakeInfo("TEST-SKIP-002", "a MUST case that skips", Level::kMust, Area::kSelection);
  }
  absl::Status Arrange(CaseContext&) override { return CaseSkip("needs root"); }
  absl::Status Act(CaseContext&) override { return absl::OkStatus(); }
};
NSMCERT_REGISTER_CASE(MustSkipCase);

}  // namespace
}  // namespace nsmcert::conformance
