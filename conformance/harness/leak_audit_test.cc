// The leak audit's process and socket parts (no root needed); namespaces, links and routes are
// covered by topology_test.cc.
#include "conformance/harness/leak_audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "conformance/harness/health.h"
#include "conformance/harness/process.h"

namespace nsmcert::harness {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kHealthServer[] = NSMCERT_HEALTH_SERVER;

// Only processes and sockets: no namespace can match this prefix.
AuditScope NoNamespaces() { return {.namespace_prefix = "nsmc-none-"}; }

TEST(LeakAuditTest, ReportsANewSocketUntilItIsClosed) {
  auto before = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(before.ok()) << before.status();
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string name = "nsmcert-leak-audit-" + std::to_string(getpid());
  // An abstract name: nothing on disk to clean up.
  std::memcpy(address.sun_path + 1, name.data(), name.size());
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address),
                 offsetof(sockaddr_un, sun_path) + 1 + name.size()),
            0);
  auto during = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(during.ok());
  const LeakReport leaked = DiffSnapshots(*before, *during);
  EXPECT_FALSE(leaked.clean());
  EXPECT_THAT(leaked.sockets, ElementsAre("fd " + std::to_string(fd) + ": unix stream @" + name));
  EXPECT_THAT(leaked.ToString(), HasSubstr("sockets:\n    fd "));
  close(fd);
  auto after = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(DiffSnapshots(*before, *after).clean()) << DiffSnapshots(*before, *after).ToString();
  EXPECT_EQ(DiffSnapshots(*before, *after).ToString(), "clean");
}

TEST(LeakAuditTest, ReportsChildrenUntilTheyAreReaped) {
  auto before = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(before.ok());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  auto during = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(during.ok());
  const LeakReport leaked = DiffSnapshots(*before, *during);
  ASSERT_EQ(leaked.processes.size(), 1u) << leaked.ToString();
  EXPECT_THAT(leaked.processes[0], HasSubstr("pid " + std::to_string(child)));
  kill(child, SIGKILL);
  // Killed but not yet reaped: still a leak (a zombie).
  siginfo_t info{};
  ASSERT_EQ(waitid(P_PID, child, &info, WEXITED | WNOWAIT), 0);
  auto zombie = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(zombie.ok());
  EXPECT_THAT(DiffSnapshots(*before, *zombie).ToString(), HasSubstr("(zombie)"));
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  auto after = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(DiffSnapshots(*before, *after).clean()) << DiffSnapshots(*before, *after).ToString();
}

TEST(LeakAuditTest, SupervisedDaemonsAndHealthProbesLeaveNothingBehind) {
  char pattern[] = "/tmp/nsmcert-leak-test-XXXXXX";
  ASSERT_NE(mkdtemp(pattern), nullptr);
  const std::string dir = pattern;
  auto before = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(before.ok());
  {
    auto supervisor = Supervisor::Create({.log_dir = dir + "/logs"});
    ASSERT_TRUE(supervisor.ok());
    const std::string url = "unix://" + dir + "/daemon.sock";
    auto process =
        (*supervisor)->Start({.name = "daemon", .argv = {kHealthServer, "--listen=" + url}});
    ASSERT_TRUE(process.ok()) << process.status();
    ASSERT_TRUE((*process)->WaitHealthy({url, ""}, {}, absl::Seconds(20)).ok());
    ASSERT_TRUE((*process)->Kill().ok());
    ASSERT_TRUE((*process)->Restart().ok());
    ASSERT_TRUE((*process)->WaitHealthy({url, ""}, {}, absl::Seconds(20)).ok());
    auto during = TakeLeakSnapshot(NoNamespaces());
    ASSERT_TRUE(during.ok());
    EXPECT_EQ(DiffSnapshots(*before, *during).processes.size(), 1u);
  }
  auto after = TakeLeakSnapshot(NoNamespaces());
  ASSERT_TRUE(after.ok());
  const LeakReport report = DiffSnapshots(*before, *after);
  EXPECT_TRUE(report.clean()) << report.ToString();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nsmcert::harness
