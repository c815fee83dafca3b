#include "pcap/testing/netns_fixture.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "pcap/str_util.h"

extern char** environ;

namespace nsmcert::pcap::testing {

absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv, bool keep_stderr) {
  const std::string command_line = absl::StrJoin(argv, " ");
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return absl::InternalError(internal::Cat("pipe: ", std::strerror(errno)));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  if (keep_stderr) {
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  }
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  if (spawned != 0) {
    close(pipe_fds[0]);
    return absl::NotFoundError(internal::Cat(command_line, ": ", std::strerror(spawned)));
  }
  std::string output;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(pipe_fds[0], buffer, sizeof(buffer))) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) output.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  int wait_status = 0;
  while (waitpid(pid, &wait_status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(wait_status) || WEXITSTATUS(wait_status) != 0) {
    return absl::InternalError(
        internal::Cat(command_line, " failed (status ", wait_status, "): ", output));
  }
  return output;
}

namespace {

constexpr std::string_view kNamePrefix = "pcaptest-";

// Removes namespaces left by test processes that died before their destructors ran (a crash, a
// ctest timeout). Names are pcaptest-<role>-<pid>-<suffix>; a namespace whose pid is gone is stale.
void SweepStaleNamespaces() {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(kNamePrefix)) continue;
    std::vector<std::string> parts = absl::StrSplit(name, '-');
    int pid = 0;
    if (parts.size() != 4 || !absl::SimpleAtoi(parts[2], &pid) || pid <= 0) continue;
    if (kill(pid, 0) == 0 || errno != ESRCH) continue;
    RunCommand({"ip", "netns", "del", name}).IgnoreError();
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ScopedNetns>> ScopedNetns::Create(std::string_view role) {
  if (role.empty() || role.find('-') != std::string_view::npos) {
    return absl::InvalidArgumentError(internal::Cat("namespace role '", role, "': no dashes"));
  }
  static const bool swept = (SweepStaleNamespaces(), true);
  (void)swept;
  std::random_device random;
  const std::string name = absl::StrFormat("%s%s-%d-%06x", std::string(kNamePrefix),
                                           std::string(role), getpid(), random() & 0xffffff);
  absl::StatusOr<std::string> added = RunCommand({"ip", "netns", "add", name});
  if (!added.ok()) return added.status();
  auto netns = std::unique_ptr<ScopedNetns>(new ScopedNetns(name));
  if (absl::Status up = netns->Ip({"link", "set", "lo", "up"}); !up.ok()) return up;
  return netns;
}

ScopedNetns::~ScopedNetns() {
  absl::StatusOr<std::string> deleted = RunCommand({"ip", "netns", "del", name_});
  if (!deleted.ok()) std::cerr << "cleanup: " << deleted.status() << "\n";
}

absl::Status ScopedNetns::Ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ip", "-n", name_};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunCommand(argv).status();
}

absl::StatusOr<std::string> ScopedNetns::Exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return RunCommand(full);
}

absl::StatusOr<VethPair> VethPair::Create() {
  VethPair pair;
  auto a = ScopedNetns::Create("a");
  if (!a.ok()) return a.status();
  pair.a = *std::move(a);
  auto b = ScopedNetns::Create("b");
  if (!b.ok()) return b.status();
  pair.b = *std::move(b);
  const std::string dev(kInterface);
  // Both ends are made from inside a's namespace, the peer straight into b's: nothing ever
  // appears in the namespace the test runs in.
  const std::vector<std::vector<std::string>> a_steps = {
      {"link", "add", dev, "address", std::string(kMacA), "type", "veth", "peer", "name", dev,
       "address", std::string(kMacB), "netns", pair.b->name()},
      {"addr", "add", internal::Cat(kIpA, "/24"), "dev", dev},
      {"addr", "add", internal::Cat(kIp6A, "/64"), "dev", dev, "nodad"},
      {"link", "set", dev, "up"},
  };
  for (const auto& step : a_steps) {
    if (absl::Status s = pair.a->Ip(step); !s.ok()) return s;
  }
  const std::vector<std::vector<std::string>> b_steps = {
      {"addr", "add", internal::Cat(kIpB, "/24"), "dev", dev},
      {"addr", "add", internal::Cat(kIp6B, "/64"), "dev", dev, "nodad"},
      {"link", "set", dev, "up"},
  };
  for (const auto& step : b_steps) {
    if (absl::Status s = pair.b->Ip(step); !s.ok()) return s;
  }
  return pair;
}

absl::Status AddVxlanOverlay(const VethPair& pair, int vni) {
  struct Side {
    const ScopedNetns* netns;
    std::string_view local;
    std::string_view remote;
    std::string_view overlay;
  };
  const Side sides[] = {{pair.a.get(), VethPair::kIpA, VethPair::kIpB, "10.78.0.1/24"},
                        {pair.b.get(), VethPair::kIpB, VethPair::kIpA, "10.78.0.2/24"}};
  for (const Side& side : sides) {
    const std::vector<std::vector<std::string>> steps = {
        {"link", "add", "vx0", "type", "vxlan", "id", internal::Cat(vni), "local",
         std::string(side.local), "remote", std::string(side.remote), "dstport", "4789", "dev",
         std::string(VethPair::kInterface)},
        {"addr", "add", std::string(side.overlay), "dev", "vx0"},
        {"link", "set", "vx0", "up"},
    };
    for (const auto& step : steps) {
      if (absl::Status s = side.netns->Ip(step); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::pcap::testing
