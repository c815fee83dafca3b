#include "conformance/runner/executor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "conformance/cases/check.h"
#include "conformance/cases/function_case.h"
#include "conformance/cases/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;

const std::string kTestcasesBinary = NSMCERT_TESTCASES_BINARY;
const std::string kReferenceManifest = std::string(NSMCERT_MANIFEST_DIR) + "/reference.yaml";

CaseEntry Entry(PhaseFunction arrange, PhaseFunction act, PhaseFunction assert_phase) {
  CaseEntry entry;
  entry.info.id = "EXE-001";
  entry.info.title = "executor test";
  entry.info.spec = "test";
  entry.factory = FunctionCaseFactory(std::move(arrange), std::move(act), std::move(assert_phase));
  return entry;
}

// Runs `entry` in-process with RunCasePhases.
class PhasesTest : public ::testing::Test {
 protected:
  CaseResult Run(const CaseEntry& entry) {
    EvidenceRecorder evidence(dir_.path(), "cases/EXE-001");
    CaseLog log(dir_ / "case.log", clock_);
    CaseContext context(entry.info, manifest_, evidence, log, clock_,
                        clock_.Now() + absl::Minutes(1), cancelled_, false);
    CaseResult result;
    RunCasePhases(entry, context, result,
                  [&](std::string_view phase) { phases_.emplace_back(phase); });
    return result;
  }

  TempDir dir_;
  ManualClock clock_;
  Manifest manifest_;
  CancellationFlag cancelled_{false};
  std::vector<std::string> phases_;
};

TEST_F(PhasesTest, RunsArrangeActAssertInOrder) {
  std::vector<std::string> calls;
  const auto record = [&calls](const char* name) {
    return [&calls, name](CaseContext&) {
      calls.push_back(name);
      return absl::OkStatus();
    };
  };
  const CaseResult result = Run(Entry(record("arrange"), record("act"), record("assert")));
  EXPECT_EQ(result.status, CaseStatus::kPass);
  EXPECT_EQ(result.message, "");
  EXPECT_EQ(result.phase, "assert");
  EXPECT_EQ(calls, (std::vector<std::string>{"arrange", "act", "assert"}));
  EXPECT_EQ(phases_, calls);
  const std::string log = ReadFile(dir_ / "case.log");
  EXPECT_NE(log.find("phase act"), std::string::npos);
  EXPECT_NE(log.find("result: pass"), std::string::npos);
}

TEST_F(PhasesTest, FailureStopsAtItsPhaseWithTheMessage) {
  bool assert_ran = false;
  const CaseResult result = Run(Entry(
      {}, [](CaseContext&) { return ExpectEq("segments", 4, 6); },
      [&](CaseContext&) {
        assert_ran = true;
        return absl::OkStatus();
      }));
  EXPECT_EQ(result.status, CaseStatus::kFail);
  EXPECT_EQ(result.phase, "act");
  EXPECT_EQ(result.message, "segments: expected 4, observed 6");
  EXPECT_FALSE(assert_ran);
}

TEST_F(PhasesTest, PlainErrorsAndExceptionsAreHarnessErrors) {
  CaseResult result =
      Run(Entry([](CaseContext&) { return absl::InternalError("no netns"); }, {}, {}));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.phase, "arrange");
  EXPECT_EQ(result.message, "INTERNAL: no netns");

  result = Run(
      Entry({}, {}, [](CaseContext&) -> absl::Status { throw std::out_of_range("vector::at"); }));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.phase, "assert");
  EXPECT_EQ(result.message, "INTERNAL: exception in phase assert: vector::at");

  result = Run(Entry({}, [](CaseContext&) -> absl::Status { throw 42; }, {}));
  EXPECT_EQ(result.message, "INTERNAL: unknown exception in phase act");

  CaseEntry broken = Entry({}, {}, {});
  broken.factory = []() -> std::unique_ptr<Case> { throw std::runtime_error("no memory"); };
  result = Run(broken);
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.message, "INTERNAL: exception while creating the case: no memory");
}

TEST_F(PhasesTest, SoftChecksAreAllReported) {
  const CaseResult result = Run(Entry({}, {}, [](CaseContext& context) {
    context.Check(ExpectEq("a", 1, 2));
    context.Check(ExpectEq("b", 1, 1));
    context.Check(ExpectEq("c", 3, 4));
    return absl::OkStatus();
  }));
  EXPECT_EQ(result.status, CaseStatus::kFail);
  EXPECT_EQ(result.message, "a: expected 1, observed 2 (and 1 more)");
  EXPECT_EQ(result.details,
            (std::vector<std::string>{"a: expected 1, observed 2", "c: expected 3, observed 4"}));
}

TEST_F(PhasesTest, WorstOutcomeWins) {
  CaseResult result = Run(Entry({}, {}, [](CaseContext& context) {
    context.Check(ExpectEq("a", 1, 2));
    return CaseSkip("no second node");
  }));
  EXPECT_EQ(result.status, CaseStatus::kFail) << "a failure observed is not undone by a skip";

  result = Run(Entry({}, {}, [](CaseContext& context) {
    context.Check(absl::InternalError("capture failed"));
    return CaseFailure("wrong reply");
  }));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.message, "INTERNAL: capture failed (and 1 more)");
}

TEST_F(PhasesTest, SkipAndCancellationBeforeAPhase) {
  CaseResult result = Run(Entry([](CaseContext&) { return CaseSkip("needs root"); }, {}, {}));
  EXPECT_EQ(result.status, CaseStatus::kSkip);
  EXPECT_EQ(result.message, "needs root");

  cancelled_ = true;
  phases_.clear();
  result = Run(Entry({}, {}, {}));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.message, "CANCELLED: cancelled before phase arrange");
  EXPECT_TRUE(phases_.empty());
}

TEST_F(PhasesTest, TeardownRunsBeforeTheVerdict) {
  struct Tracked : Case {
    explicit Tracked(std::atomic<bool>* destroyed) : destroyed(destroyed) {}
    ~Tracked() override { destroyed->store(true); }
    absl::Status Act(CaseContext&) override { return CaseFailure("x"); }
    std::atomic<bool>* destroyed;
  };
  std::atomic<bool> destroyed{false};
  CaseEntry entry = Entry({}, {}, {});
  entry.factory = [&]() -> std::unique_ptr<Case> { return std::make_unique<Tracked>(&destroyed); };
  EXPECT_EQ(Run(entry).status, CaseStatus::kFail);
  EXPECT_TRUE(destroyed);
}

// ThreadExecutor

CaseRun MakeRun(const CaseEntry& entry, const TempDir& dir, absl::Duration timeout) {
  CaseRun run;
  run.entry = &entry;
  run.case_dir = dir.path();
  run.relative_dir = "cases/" + entry.info.id;
  run.timeout = timeout;
  return run;
}

TEST(ThreadExecutorTest, ReportsTimesFromTheClockAndEvidence) {
  TempDir dir;
  ManualClock clock;
  Manifest manifest;
  ThreadExecutor executor(manifest, clock, absl::Seconds(5));
  const CaseEntry entry = Entry({},
                                [&clock](CaseContext& context) {
                                  clock.Advance(absl::Seconds(3));
                                  return context.evidence().WriteText(EvidenceKind::kNote,
                                                                      "note.txt", "seen", "a note");
                                },
                                {});
  const CaseResult result = executor.Execute(MakeRun(entry, dir, absl::Minutes(1)));
  EXPECT_EQ(result.status, CaseStatus::kPass) << result.message;
  EXPECT_EQ(result.started, absl::FromUnixSeconds(1'800'000'000));
  EXPECT_EQ(result.duration, absl::Seconds(3));
  EXPECT_EQ(result.timeout, absl::Minutes(1));
  EXPECT_EQ(result.evidence,
            (std::vector<Evidence>{{EvidenceKind::kLog, "cases/EXE-001/case.log", "the case's log"},
                                   {EvidenceKind::kNote, "cases/EXE-001/note.txt", "a note"}}));
}

TEST(ThreadExecutorTest, TimeoutCancelsTheCase) {
  TempDir dir;
  Manifest manifest;
  ThreadExecutor executor(manifest, Clock::Real(), absl::Seconds(30));
  const CaseEntry entry = Entry({},
                                [](CaseContext& context) {
                                  while (!context.cancelled()) {
                                    std::this_thread::sleep_for(std::chrono::milliseconds(1));
                                  }
                                  return CaseFailure("gave up");
                                },
                                {});
  const CaseResult result = executor.Execute(MakeRun(entry, dir, absl::Milliseconds(500)));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.phase, "act");
  EXPECT_EQ(result.message, "timed out after 500ms in phase act (the case stopped when cancelled)");
  ASSERT_EQ(result.details.size(), 2u);
  EXPECT_EQ(result.details[1], "the case then said: gave up");
  EXPECT_NE(ReadFile(dir / "case.log").find("timed out after 500ms; cancelling"),
            std::string::npos);
}

// ProcessExecutor, re-executing nsmcert_testcases (test_cases.cc is its catalogue and also
// linked into this test, so CaseRegistry::Global() holds the same cases).

class ProcessExecutorTest : public ::testing::Test {
 protected:
  CaseResult Execute(const std::string& id, absl::Duration timeout = absl::Seconds(60)) {
    const CaseEntry* entry = CaseRegistry::Global().Find(id);
    EXPECT_NE(entry, nullptr) << id;
    ProcessExecutor executor(kTestcasesBinary, kReferenceManifest, Clock::Real(), grace_);
    return executor.Execute(MakeRun(*entry, dir_, timeout));
  }

  TempDir dir_;
  absl::Duration grace_ = absl::Seconds(10);
};

TEST_F(ProcessExecutorTest, PassingCaseBringsItsEvidenceBack) {
  const CaseResult result = Execute("TEST-PASS-001");
  EXPECT_EQ(result.status, CaseStatus::kPass) << result.message;
  std::vector<std::string> paths;
  for (const Evidence& e : result.evidence) paths.push_back(e.path);
  EXPECT_EQ(paths, (std::vector<std::string>{
                       "cases/TEST-PASS-001/case.log", "cases/TEST-PASS-001/observation.txt",
                       "cases/TEST-PASS-001/underlay.pcap", "cases/TEST-PASS-001/reply.json"}));
  EXPECT_EQ(ReadFile(dir_ / "observation.txt"), "segments: 4\n");
  EXPECT_NE(ReadFile(dir_ / "case.log").find("doing the stimulus"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".result.json")) << "internal files are removed";
  EXPECT_FALSE(std::filesystem::exists(dir_ / ".phase"));
}

TEST_F(ProcessExecutorTest, FailureAndExceptionComeBackAsStatuses) {
  CaseResult result = Execute("TEST-FAIL-001");
  EXPECT_EQ(result.status, CaseStatus::kFail);
  EXPECT_EQ(result.message, "path segment count: expected 4, observed 3");
  EXPECT_EQ(result.phase, "assert");

  result = Execute("TEST-THROW-001");
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.message, "INTERNAL: exception in phase act: boom");
}

TEST_F(ProcessExecutorTest, CrashIsAnErrorWithTheSignalAndPhase) {
  const CaseResult result = Execute("TEST-CRASH-001");
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_NE(result.message.find("died of signal 6"), std::string::npos) << result.message;
  EXPECT_NE(result.message.find("in phase act"), std::string::npos) << result.message;
  EXPECT_NE(ReadFile(dir_ / "case.log").find("about to abort"), std::string::npos);
}

TEST_F(ProcessExecutorTest, TimeoutCancelsThenTheCaseStops) {
  // Long enough for the child to reach Act even on a loaded machine; the case never ends by
  // itself, so the test does not wait for any timer but the timeout under test.
  const CaseResult result = Execute("TEST-HANG-001", absl::Seconds(2));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.phase, "act");
  EXPECT_EQ(result.message, "timed out after 2s in phase act; stopped when cancelled");
  ASSERT_EQ(result.details.size(), 2u);
  EXPECT_EQ(result.details[1], "the case then said: no heal observed before cancellation");
}

TEST_F(ProcessExecutorTest, CaseThatIgnoresCancellationIsKilled) {
  grace_ = absl::Milliseconds(200);
  const CaseResult result = Execute("TEST-STUCK-001", absl::Seconds(2));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_EQ(result.message, "timed out after 2s in phase act; killed after a further 200ms");
}

TEST_F(ProcessExecutorTest, MissingBinaryIsAnError) {
  const CaseEntry* entry = CaseRegistry::Global().Find("TEST-PASS-001");
  ProcessExecutor executor("/nonexistent/nsmcert", kReferenceManifest, Clock::Real(), grace_);
  const CaseResult result = executor.Execute(MakeRun(*entry, dir_, absl::Seconds(5)));
  EXPECT_EQ(result.status, CaseStatus::kError);
  EXPECT_NE(result.message.find("cannot start the case process"), std::string::npos)
      << result.message;
}

}  // namespace
}  // namespace nsmcert::conformance
