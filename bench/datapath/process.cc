#include "bench/datapath/process.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/datapath/unique_fd.h"

extern char** environ;

namespace nsmcert::bench {
namespace {

bool IsExecutableFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// What the child reports through the exec-status pipe when it cannot exec.
struct ChildFailure {
  int step = 0;  // 1 = setns, 2 = dup2, 3 = exec, 4 = sched_setscheduler
  int err = 0;
};

}  // namespace

absl::StatusOr<std::string> FindExecutable(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("program name: empty");
  if (name.find('/') != std::string::npos) {
    if (IsExecutableFile(name)) return name;
    return absl::NotFoundError(absl::StrCat("program ", name, ": not an executable file"));
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t pos = 0;
  while (pos <= dirs.size()) {
    size_t end = dirs.find(':', pos);
    if (end == std::string::npos) end = dirs.size();
    std::string dir = dirs.substr(pos, end - pos);
    std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (IsExecutableFile(candidate)) return candidate;
    pos = end + 1;
  }
  return absl::NotFoundError(absl::StrCat("program ", name, ": not found in PATH"));
}

absl::StatusOr<ChildProcess> ChildProcess::SpawnInNetNs(const kernel::NetNs& ns,
                                                        const std::vector<std::string>& argv,
                                                        int stdout_fd, int stderr_fd,
                                                        int realtime_priority) {
  if (argv.empty()) return absl::InvalidArgumentError("argv: empty");
  if (realtime_priority < 0 || realtime_priority > 99) {
    return absl::InvalidArgumentError("realtime_priority: must be in [0, 99]");
  }
  sched_param sched{};
  sched.sched_priority = realtime_priority;
  if (!ns.valid()) return absl::FailedPreconditionError("spawn: empty namespace handle");
  absl::StatusOr<std::string> program = FindExecutable(argv[0]);
  if (!program.ok()) return program.status();

  // Everything the child needs is prepared before fork: after fork in a threaded process only
  // async-signal-safe calls are allowed until exec.
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  UniqueFd dev_null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!dev_null.valid()) {
    return absl::InternalError(absl::StrCat("open /dev/null: ", std::strerror(errno)));
  }
  const int out = stdout_fd >= 0 ? stdout_fd : dev_null.get();
  const int err = stderr_fd >= 0 ? stderr_fd : dev_null.get();
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  UniqueFd status_read(status_pipe[0]);
  UniqueFd status_write(status_pipe[1]);

  const pid_t pid = ::fork();
  if (pid < 0) {
    return absl::InternalError(absl::StrCat("fork for ", argv[0], ": ", std::strerror(errno)));
  }
  if (pid == 0) {
    ChildFailure failure;
    if (::setns(ns.fd(), CLONE_NEWNET) != 0) {
      failure = {1, errno};
    } else if (::dup2(out, STDOUT_FILENO) < 0 || ::dup2(err, STDERR_FILENO) < 0) {
      failure = {2, errno};
    } else if (realtime_priority > 0 && ::sched_setscheduler(0, SCHED_FIFO, &sched) != 0) {
      failure = {4, errno};
    } else {
      ::execve(program->c_str(), args.data(), environ);
      failure = {3, errno};
    }
    ssize_t ignored = ::write(status_write.get(), &failure, sizeof(failure));
    (void)ignored;
    ::_exit(127);
  }
  status_write.Reset();
  ChildProcess child(pid, argv[0]);
  // The pipe closes on a successful exec (close-on-exec) and returns 0 bytes.
  ChildFailure failure;
  ssize_t n;
  do {
    n = ::read(status_read.get(), &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof(failure))) {
    child.Wait(std::chrono::seconds(5)).IgnoreError();
    const char* step = failure.step == 1   ? "enter namespace"
                       : failure.step == 2 ? "dup2"
                       : failure.step == 4 ? "SCHED_FIFO"
                                           : "exec";
    return absl::InternalError(
        absl::StrCat("spawn ", argv[0], ": ", step, ": ", std::strerror(failure.err)));
  }
  return child;
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      program_(std::move(other.program_)),
      status_(other.status_),
      reaped_(other.reaped_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    Kill();
    pid_ = std::exchange(other.pid_, -1);
    program_ = std::move(other.program_);
    status_ = other.status_;
    reaped_ = other.reaped_;
  }
  return *this;
}

ChildProcess::~ChildProcess() { Kill(); }

bool ChildProcess::Running() {
  if (pid_ < 0 || reaped_) return false;
  int status = 0;
  pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = status;
    reaped_ = true;
    return false;
  }
  return r == 0;
}

absl::StatusOr<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  if (pid_ < 0) return absl::FailedPreconditionError("wait: no process");
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          program_, " (pid ", pid_, "): still running after ", timeout.count(), " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return status_;
}

void ChildProcess::Kill() {
  if (pid_ < 0 || reaped_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = status;
  reaped_ = true;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return absl::StrCat("exited with ", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return absl::StrCat("killed by signal ", WTERMSIG(status));
  return absl::StrCat("wait status ", status);
}

}  // namespace nsmcert::bench
