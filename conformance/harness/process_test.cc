// Process supervision without namespaces (no root needed): start, exit status, logs and
// environment, kill/stop/pause/resume/restart, process groups, no zombies, no orphans.
#include "conformance/harness/process.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "conformance/harness/proc.h"

namespace nsmcert::harness {
namespace {

using ::testing::HasSubstr;

constexpr char kHealthServer[] = NSMCERT_HEALTH_SERVER;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nsmcert-process-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    Supervisor::Options options;
    options.log_dir = dir_ + "/logs";
    auto supervisor = Supervisor::Create(options);
    ASSERT_TRUE(supervisor.ok()) << supervisor.status();
    supervisor_ = *std::move(supervisor);
  }
  void TearDown() override {
    supervisor_.reset();
    std::filesystem::remove_all(dir_);
  }

  Process* Start(ProcessSpec spec) {
    auto process = supervisor_->Start(std::move(spec));
    EXPECT_TRUE(process.ok()) << process.status();
    return process.ok() ? *process : nullptr;
  }
  Process* StartShell(const std::string& name, const std::string& script) {
    return Start({.name = name, .argv = {"/bin/sh", "-c", script}});
  }
  // A health server on a unix socket in the test directory.
  Process* StartHealthServer(const std::string& name) {
    return Start({.name = name, .argv = {kHealthServer, "--listen=" + SocketUrl(name)}});
  }
  std::string SocketUrl(const std::string& name) const {
    return "unix://" + dir_ + "/" + name + ".sock";
  }

  std::string dir_;
  std::unique_ptr<Supervisor> supervisor_;
};

// Neither running nor a zombie: reaped.
bool Gone(pid_t pid) { return !ReadProcStat(pid).ok(); }

TEST_F(ProcessTest, ReportsExitCodeAndReapsTheChild) {
  Process* process = StartShell("exit3", "exit 3");
  ASSERT_NE(process, nullptr);
  const pid_t pid = process->pid();
  auto status = process->Wait(absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, (ExitStatus{.signaled = false, .code = 3}));
  EXPECT_EQ(status->ToString(), "exited with code 3");
  EXPECT_FALSE(process->running());
  EXPECT_EQ(process->pid(), 0);
  EXPECT_TRUE(Gone(pid));
  EXPECT_EQ(process->starts(), 1);
}

TEST_F(ProcessTest, CapturesStdoutAndStderrWithTheGivenEnvironment) {
  ProcessSpec spec{
      .name = "env",
      .argv = {"/bin/sh", "-c", "echo \"greeting=$GREETING home=$HOME\"; echo oops >&2"},
      .env = {{"GREETING", "hello"}},
      .inherit_env = false,
      .working_dir = dir_};
  Process* process = Start(spec);
  ASSERT_NE(process, nullptr);
  ASSERT_TRUE(process->Wait(absl::Seconds(10)).ok());
  EXPECT_EQ(process->log_path(), dir_ + "/logs/env.log");
  const std::string log = process->ReadLog();
  EXPECT_THAT(log, HasSubstr("greeting=hello home=\n"));  // HOME not inherited
  EXPECT_THAT(log, HasSubstr("oops\n"));
  EXPECT_THAT(log, HasSubstr("==== nsmcert: start #1 of env: /bin/sh -c"));
  EXPECT_THAT(log, HasSubstr("exited with code 0 ===="));
}

TEST_F(ProcessTest, FindsProgramsInPathAndRunsInTheWorkingDirectory) {
  ProcessSpec spec{.name = "pwd", .argv = {"pwd"}, .working_dir = dir_};
  Process* process = Start(spec);
  ASSERT_NE(process, nullptr);
  ASSERT_TRUE(process->Wait(absl::Seconds(10)).ok());
  EXPECT_THAT(process->ReadLog(), HasSubstr(dir_ + "\n"));
}

TEST_F(ProcessTest, KillDeliversSigkillToTheWholeGroup) {
  // The shell's background child is in the same process group and must die with it.
  Process* process = StartShell("group", "sleep 1000 & echo child=$!; wait");
  ASSERT_NE(process, nullptr);
  pid_t child = 0;
  for (int i = 0; i < 2000 && child == 0; ++i) {
    const std::string log = process->ReadLog();
    // Line starts only: the log's header line quotes the command, "child=$!" included.
    const auto at = log.find("\nchild=");
    if (at != std::string::npos && log.find('\n', at + 1) != std::string::npos) {
      child = std::stoi(log.substr(at + 7));
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  ASSERT_GT(child, 0);
  auto child_stat = ReadProcStat(child);
  ASSERT_TRUE(child_stat.ok());
  EXPECT_EQ(child_stat->pgrp, process->pid());

  const pid_t pid = process->pid();
  ASSERT_TRUE(process->Kill().ok());
  EXPECT_EQ(process->last_exit(), (ExitStatus{.signaled = true, .signal = SIGKILL}));
  EXPECT_TRUE(Gone(pid));
  // The grandchild was reparented and killed; nothing of ours is left running.
  for (int i = 0; i < 2000 && !Gone(child); ++i) {
    auto stat = ReadProcStat(child);
    if (stat.ok() && stat->state == 'Z') break;  // killed, waiting for its new parent to reap
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto after = ReadProcStat(child);
  EXPECT_TRUE(!after.ok() || after->state == 'Z' || after->start_time != child_stat->start_time);
  EXPECT_EQ(process->Kill().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(ProcessTest, StopIsGracefulForServersThatHandleSigterm) {
  Process* process = StartHealthServer("graceful");
  ASSERT_NE(process, nullptr);
  ASSERT_TRUE(process->WaitHealthy({SocketUrl("graceful"), ""}, {}, absl::Seconds(20)).ok());
  ASSERT_TRUE(process->Stop(absl::Seconds(20)).ok());
  EXPECT_EQ(process->last_exit(), (ExitStatus{.signaled = false, .code = 0}));
  EXPECT_THAT(process->ReadLog(), HasSubstr("shutting down"));
}

TEST_F(ProcessTest, StopEscalatesToSigkillAfterTheGracePeriod) {
  Process* process = StartShell("stubborn", "trap '' TERM; echo ready; while :; do sleep 1; done");
  ASSERT_NE(process, nullptr);
  for (int i = 0; i < 2000 && process->ReadLog().find("\nready\n") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(process->Stop(absl::Milliseconds(200)).ok());
  EXPECT_EQ(process->last_exit(), (ExitStatus{.signaled = true, .signal = SIGKILL}));
}

TEST_F(ProcessTest, PauseStopsTheProcessAndResumeContinuesIt) {
  Process* process = StartHealthServer("pausable");
  ASSERT_NE(process, nullptr);
  const HealthTarget target{SocketUrl("pausable"), ""};
  ASSERT_TRUE(process->WaitHealthy(target, {}, absl::Seconds(20)).ok());

  ASSERT_TRUE(process->Pause().ok());
  EXPECT_EQ(ReadProcStat(process->pid())->state, 'T');
  EXPECT_TRUE(process->running());
  // A stopped server accepts the connection (the kernel does) but never answers.
  EXPECT_EQ(CheckHealth(target, "", absl::Milliseconds(300)).status().code(),
            absl::StatusCode::kDeadlineExceeded);

  ASSERT_TRUE(process->Resume().ok());
  EXPECT_NE(ReadProcStat(process->pid())->state, 'T');
  auto status = CheckHealth(target, "", absl::Seconds(10));
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(*status, ServingStatus::kServing);

  // Stop reaches a paused process too (SIGCONT follows SIGTERM).
  ASSERT_TRUE(process->Pause().ok());
  ASSERT_TRUE(process->Stop(absl::Seconds(20)).ok());
  EXPECT_EQ(process->last_exit(), (ExitStatus{.signaled = false, .code = 0}));
}

TEST_F(ProcessTest, RestartStartsANewIncarnationWithTheSameLog) {
  Process* process = StartHealthServer("restartable");
  ASSERT_NE(process, nullptr);
  const HealthTarget target{SocketUrl("restartable"), ""};
  ASSERT_TRUE(process->WaitHealthy(target, {}, absl::Seconds(20)).ok());
  const pid_t first = process->pid();

  ASSERT_TRUE(process->Kill().ok());
  EXPECT_FALSE(CheckHealth(target, "", absl::Seconds(2)).ok());
  ASSERT_TRUE(process->Restart().ok());
  EXPECT_EQ(process->starts(), 2);
  EXPECT_NE(process->pid(), first);
  ASSERT_TRUE(process->WaitHealthy(target, {}, absl::Seconds(20)).ok());

  // Restart of a running process stops it first.
  const pid_t second = process->pid();
  ASSERT_TRUE(process->Restart(absl::Seconds(20)).ok());
  EXPECT_EQ(process->starts(), 3);
  EXPECT_NE(process->pid(), second);
  EXPECT_TRUE(Gone(second));
  const std::string log = process->ReadLog();
  EXPECT_THAT(log, HasSubstr("start #1 of restartable"));
  EXPECT_THAT(log, HasSubstr("(start #1, pid " + std::to_string(first) + ") killed by signal 9"));
  EXPECT_THAT(log, HasSubstr("start #3 of restartable"));
}

TEST_F(ProcessTest, WaitHealthyGivesUpWhenTheProcessDies) {
  Process* process = StartShell("crashes", "echo boom; exit 4");
  ASSERT_NE(process, nullptr);
  const absl::Status status =
      process->WaitHealthy({SocketUrl("crashes"), ""}, {}, absl::Seconds(60));
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("exited with code 4"));
  EXPECT_THAT(status.message(), HasSubstr("boom"));
}

TEST_F(ProcessTest, StartErrors) {
  EXPECT_EQ(supervisor_->Start({.name = "x", .argv = {}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(supervisor_->Start({.name = "a/b", .argv = {"/bin/true"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      supervisor_->Start({.name = "missing", .argv = {"/nonexistent/daemon"}}).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(
      supervisor_->Start({.name = "nopath", .argv = {"no-such-program-anywhere"}}).status().code(),
      absl::StatusCode::kNotFound);
  // Passes the access check but exec refuses a directory: the child reports it.
  auto directory = supervisor_->Start({.name = "directory", .argv = {dir_}});
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(directory.status().message(), HasSubstr("exec"));
  EXPECT_EQ(
      supervisor_->Start({.name = "badns", .argv = {"/bin/true"}, .netns_path = "/nonexistent"})
          .status()
          .code(),
      absl::StatusCode::kNotFound);
  ASSERT_NE(StartShell("twice", "sleep 1000"), nullptr);
  EXPECT_EQ(supervisor_->Start({.name = "twice", .argv = {"/bin/true"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_NE(supervisor_->Find("twice"), nullptr);
  EXPECT_EQ(supervisor_->Find("directory"), nullptr);  // failed starts leave no entry
}

TEST_F(ProcessTest, DestroyingTheSupervisorKillsAndReapsEveryChild) {
  Process* first = StartShell("first", "sleep 1000");
  Process* second = StartShell("second", "sleep 1000");
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  const pid_t pids[] = {first->pid(), second->pid()};
  supervisor_.reset();
  for (pid_t pid : pids) EXPECT_TRUE(Gone(pid)) << pid;
}

TEST_F(ProcessTest, ChildrenOutliveTheThreadThatStartedThem) {
  // PR_SET_PDEATHSIG follows the forking thread; the supervisor forks on its own thread, so a
  // short-lived caller thread does not take the daemon down with it.
  Process* process = nullptr;
  std::thread starter([&] { process = StartShell("detached", "sleep 1000"); });
  starter.join();
  ASSERT_NE(process, nullptr);
  auto status = process->Wait(absl::Milliseconds(200));
  EXPECT_EQ(status.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(process->running());
}

TEST_F(ProcessTest, StopAllStopsEverything) {
  ASSERT_NE(StartHealthServer("one"), nullptr);
  ASSERT_NE(StartShell("two", "sleep 1000"), nullptr);
  ASSERT_TRUE(supervisor_->StopAll(absl::Seconds(20)).ok());
  EXPECT_FALSE(supervisor_->Find("one")->running());
  EXPECT_FALSE(supervisor_->Find("two")->running());
  EXPECT_EQ(supervisor_->Find("two")->last_exit(),
            (ExitStatus{.signaled = true, .signal = SIGTERM}));
}

TEST(ExitStatusTest, DescribesSignals) {
  EXPECT_EQ((ExitStatus{.signaled = true, .signal = SIGKILL}).ToString(),
            "killed by signal 9 (Killed)");
  EXPECT_TRUE((ExitStatus{}).success());
  EXPECT_FALSE((ExitStatus{.signaled = true, .signal = SIGTERM}).success());
}

}  // namespace
}  // namespace nsmcert::harness
