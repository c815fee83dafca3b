#include "conformance/harness/process.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/time/clock.h"
#include "conformance/harness/proc.h"
#include "conformance/harness/str_util.h"

extern char** environ;

namespace nsmcert::harness {
namespace {

// How long Kill() and the destructor wait for a SIGKILLed process to be reaped, and Pause/Resume
// for the state change to show. Generous: these only run out when the kernel is stuck.
constexpr absl::Duration kReapTimeout = absl::Seconds(10);
constexpr absl::Duration kStateTimeout = absl::Seconds(5);

// What the child reports through the exec-status pipe when a step before exec fails.
enum class ChildStep : int { kSetns = 1, kChdir = 2, kExec = 3, kParentGone = 4 };
struct ChildFailure {
  ChildStep step;
  int error;
};

std::string_view StepName(ChildStep step) {
  switch (step) {
    case ChildStep::kSetns:
      return "setns";
    case ChildStep::kChdir:
      return "chdir";
    case ChildStep::kExec:
      return "exec";
    case ChildStep::kParentGone:
      return "start (parent exited)";
  }
  return "start";
}

// Everything the child needs, prepared before fork so the child only makes system calls.
struct ChildPlan {
  std::string program;
  std::vector<std::string> argv_storage;
  std::vector<std::string> env_storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  std::string working_dir;
  int log_fd = -1;
  int null_fd = -1;
  int netns_fd = -1;
  int status_pipe[2] = {-1, -1};  // [read, write], both close-on-exec
  pid_t parent = 0;

  ~ChildPlan() {
    for (int fd : {log_fd, null_fd, netns_fd, status_pipe[0], status_pipe[1]}) {
      if (fd >= 0) close(fd);
    }
  }
};

// Runs in the forked child: only async-signal-safe calls from here to exec.
[[noreturn]] void RunChild(const ChildPlan& plan) {
  auto fail = [&](ChildStep step) {
    const ChildFailure failure{step, errno};
    (void)!write(plan.status_pipe[1], &failure, sizeof(failure));
    _exit(127);
  };
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The parent may have died between fork and prctl; then no one would ever kill us.
  if (getppid() != plan.parent) fail(ChildStep::kParentGone);
  setpgid(0, 0);
  if (plan.netns_fd >= 0 && setns(plan.netns_fd, CLONE_NEWNET) != 0) fail(ChildStep::kSetns);
  dup2(plan.null_fd, STDIN_FILENO);
  dup2(plan.log_fd, STDOUT_FILENO);
  dup2(plan.log_fd, STDERR_FILENO);
  if (!plan.working_dir.empty() && chdir(plan.working_dir.c_str()) != 0) fail(ChildStep::kChdir);
  // Handlers and ignored signals of the harness (gRPC ignores SIGPIPE, say) are not the daemon's.
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) sigaction(signal, &default_action, nullptr);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // Nothing else of the harness leaks into the daemon; the status pipe closes on exec.
  syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
  execve(plan.program.c_str(), plan.argv.data(), plan.envp.data());
  fail(ChildStep::kExec);
  _exit(127);  // not reached
}

bool IsValidName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-')) {
      return false;
    }
  }
  return true;
}

// argv[0] as a path to an executable, searching `path_variable` when it has no '/'.
absl::StatusOr<std::string> ResolveProgram(const std::string& program,
                                           const std::string& path_variable) {
  if (program.find('/') != std::string::npos) {
    if (access(program.c_str(), X_OK) != 0) {
      return absl::NotFoundError(
          internal::Cat("program ", program, " is not executable: ", std::strerror(errno)));
    }
    return program;
  }
  std::stringstream dirs(path_variable);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    const std::string candidate = internal::Cat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(internal::Cat("program ", program, " not found in PATH"));
}

void AppendToFile(const std::string& path, std::string_view text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  (void)!write(fd, text.data(), text.size());
  close(fd);
}

absl::StatusOr<std::unique_ptr<ChildPlan>> PrepareChild(const ProcessSpec& spec,
                                                        const std::string& log_path) {
  auto plan = std::make_unique<ChildPlan>();
  std::map<std::string, std::string> env;
  if (spec.inherit_env) {
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string_view text = *entry;
      const std::size_t equals = text.find('=');
      if (equals != std::string_view::npos) {
        env[std::string(text.substr(0, equals))] = std::string(text.substr(equals + 1));
      }
    }
  }
  for (const auto& [key, value] : spec.env) env[key] = value;
  const auto path_it = env.find("PATH");
  auto program = ResolveProgram(
      spec.argv[0], path_it != env.end() ? path_it->second : "/usr/local/bin:/usr/bin:/bin");
  if (!program.ok()) return program.status();
  plan->program = *program;
  plan->argv_storage = spec.argv;
  for (std::string& arg : plan->argv_storage) plan->argv.push_back(arg.data());
  plan->argv.push_back(nullptr);
  for (const auto& [key, value] : env) plan->env_storage.push_back(internal::Cat(key, "=", value));
  for (std::string& entry : plan->env_storage) plan->envp.push_back(entry.data());
  plan->envp.push_back(nullptr);
  plan->working_dir = spec.working_dir;

  plan->log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (plan->log_fd < 0) {
    return absl::InternalError(
        internal::Cat("cannot open log file ", log_path, ": ", std::strerror(errno)));
  }
  plan->null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (plan->null_fd < 0) {
    return absl::InternalError(internal::Cat("cannot open /dev/null: ", std::strerror(errno)));
  }
  if (!spec.netns_path.empty()) {
    plan->netns_fd = open(spec.netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (plan->netns_fd < 0) {
      return absl::NotFoundError(internal::Cat("cannot open network namespace ", spec.netns_path,
                                               ": ", std::strerror(errno)));
    }
  }
  if (pipe2(plan->status_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(internal::Cat("pipe: ", std::strerror(errno)));
  }
  plan->parent = getpid();
  return plan;
}

}  // namespace

ExitStatus ExitStatus::FromWaitStatus(int wait_status) {
  ExitStatus status;
  if (WIFSIGNALED(wait_status)) {
    status.signaled = true;
    status.signal = WTERMSIG(wait_status);
  } else {
    status.code = WEXITSTATUS(wait_status);
  }
  return status;
}

std::string ExitStatus::ToString() const {
  if (signaled) return internal::Cat("killed by signal ", signal, " (", strsignal(signal), ")");
  return internal::Cat("exited with code ", code);
}

// ---------------------------------------------------------------------------------------------
// Process

pid_t Process::pid() const {
  std::lock_guard lock(supervisor_->mu_);
  return pid_;
}

bool Process::running() const { return pid() != 0; }

int Process::starts() const {
  std::lock_guard lock(supervisor_->mu_);
  return starts_;
}

std::optional<ExitStatus> Process::last_exit() const {
  std::lock_guard lock(supervisor_->mu_);
  return last_exit_;
}

absl::Status Process::SignalLocked(int signal) {
  if (pid_ == 0) {
    return absl::FailedPreconditionError(internal::Cat("process ", name(), " is not running"));
  }
  // The child makes itself group leader, and the parent does too right after fork, so the group
  // exists by the time anyone can call this.
  if (kill(-pid_, signal) != 0 && kill(pid_, signal) != 0) {
    return absl::InternalError(
        internal::Cat("signal ", signal, " to process ", name(), ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

bool Process::WaitReapedLocked(std::unique_lock<std::mutex>& lock, int start, absl::Time deadline) {
  return supervisor_->changed_.wait_until(lock, absl::ToChronoTime(deadline),
                                          [&] { return pid_ == 0 || starts_ != start; });
}

absl::Status Process::Signal(int signal) {
  std::lock_guard lock(supervisor_->mu_);
  return SignalLocked(signal);
}

absl::Status Process::Kill() {
  std::unique_lock lock(supervisor_->mu_);
  const int start = starts_;
  if (absl::Status sent = SignalLocked(SIGKILL); !sent.ok()) return sent;
  if (!WaitReapedLocked(lock, start, absl::Now() + kReapTimeout)) {
    return absl::DeadlineExceededError(internal::Cat(
        "process ", name(), " not reaped ", absl::FormatDuration(kReapTimeout), " after SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status Process::Stop(absl::Duration grace) {
  std::unique_lock lock(supervisor_->mu_);
  const int start = starts_;
  if (absl::Status sent = SignalLocked(SIGTERM); !sent.ok()) return sent;
  (void)SignalLocked(SIGCONT);
  if (WaitReapedLocked(lock, start, absl::Now() + grace)) return absl::OkStatus();
  if (absl::Status sent = SignalLocked(SIGKILL); !sent.ok()) return sent;
  if (!WaitReapedLocked(lock, start, absl::Now() + kReapTimeout)) {
    return absl::DeadlineExceededError(
        internal::Cat("process ", name(), " not reaped after SIGTERM and SIGKILL"));
  }
  return absl::OkStatus();
}

absl::Status Process::WaitStopped(bool stopped) {
  const pid_t current = pid();
  if (current == 0) {
    return absl::FailedPreconditionError(internal::Cat("process ", name(), " is not running"));
  }
  const absl::Time deadline = absl::Now() + kStateTimeout;
  while (absl::Now() < deadline) {
    auto stat = ReadProcStat(current);
    if (!stat.ok()) {
      return absl::FailedPreconditionError(internal::Cat("process ", name(), " is gone"));
    }
    if ((stat->state == 'T') == stopped) return absl::OkStatus();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return absl::DeadlineExceededError(internal::Cat("process ", name(), " did not ",
                                                   stopped ? "stop" : "continue", " within ",
                                                   absl::FormatDuration(kStateTimeout)));
}

absl::Status Process::Pause() {
  if (absl::Status sent = Signal(SIGSTOP); !sent.ok()) return sent;
  return WaitStopped(true);
}

absl::Status Process::Resume() {
  if (absl::Status sent = Signal(SIGCONT); !sent.ok()) return sent;
  return WaitStopped(false);
}

absl::Status Process::Restart(absl::Duration grace) {
  if (running()) {
    absl::Status stopped = Stop(grace);
    // It may have ended by itself in the meantime.
    if (!stopped.ok() && stopped.code() != absl::StatusCode::kFailedPrecondition) return stopped;
  }
  return supervisor_->Launch(*this);
}

absl::StatusOr<ExitStatus> Process::Wait(absl::Duration timeout) {
  std::unique_lock lock(supervisor_->mu_);
  if (pid_ != 0 && !WaitReapedLocked(lock, starts_, absl::Now() + timeout)) {
    return absl::DeadlineExceededError(
        internal::Cat("process ", name(), " still running after ", absl::FormatDuration(timeout)));
  }
  if (!last_exit_) {
    return absl::FailedPreconditionError(internal::Cat("process ", name(), " never ended"));
  }
  return *last_exit_;
}

absl::Status Process::WaitHealthy(const HealthTarget& target,
                                  const std::vector<std::string>& services,
                                  absl::Duration timeout) {
  const int start = starts();
  auto alive = [&]() -> absl::Status {
    std::lock_guard lock(supervisor_->mu_);
    if (pid_ != 0 && starts_ == start) return absl::OkStatus();
    return absl::FailedPreconditionError(
        internal::Cat("process ", name(), " ended before it was healthy (",
                      last_exit_ ? last_exit_->ToString() : "restarted", "); log ", log_path_,
                      " ends with:\n", LogTail()));
  };
  return harness::WaitHealthy(target, services, timeout, alive);
}

std::string Process::ReadLog() const {
  std::ifstream file(log_path_);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

std::string Process::LogTail(int lines) const {
  const std::string log = ReadLog();
  std::size_t begin = log.size();
  // Skip a trailing newline, then walk back `lines` line breaks.
  if (begin > 0 && log[begin - 1] == '\n') --begin;
  for (int seen = 0; begin > 0; --begin) {
    if (log[begin - 1] == '\n' && ++seen == lines) break;
  }
  return log.substr(begin);
}

// ---------------------------------------------------------------------------------------------
// Supervisor

absl::StatusOr<std::unique_ptr<Supervisor>> Supervisor::Create(Options options) {
  std::string log_dir = options.log_dir;
  if (log_dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        internal::Cat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/nsmcert-logs-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return absl::InternalError(
          internal::Cat("cannot create a log directory ", pattern, ": ", std::strerror(errno)));
    }
    log_dir = pattern;
  } else {
    std::error_code error;
    std::filesystem::create_directories(log_dir, error);
    if (error) {
      return absl::InternalError(
          internal::Cat("cannot create log directory ", log_dir, ": ", error.message()));
    }
  }
  if (options.handle_signals) InstallEmergencySignalHandlers();

  std::unique_ptr<Supervisor> supervisor(new Supervisor(log_dir));
  supervisor->wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  supervisor->epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (supervisor->wake_fd_ < 0 || supervisor->epoll_fd_ < 0) {
    return absl::InternalError(internal::Cat("eventfd/epoll: ", std::strerror(errno)));
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.ptr = nullptr;  // nullptr marks the wake fd; pidfds carry their Process
  if (epoll_ctl(supervisor->epoll_fd_, EPOLL_CTL_ADD, supervisor->wake_fd_, &event) != 0) {
    return absl::InternalError(internal::Cat("epoll_ctl: ", std::strerror(errno)));
  }
  supervisor->thread_ = std::thread(&Supervisor::Loop, supervisor.get());
  return supervisor;
}

Supervisor::~Supervisor() {
  std::unique_lock lock(mu_);
  for (auto& [name, process] : processes_) {
    if (process->pid_ != 0) (void)process->SignalLocked(SIGKILL);
  }
  const bool all_reaped =
      changed_.wait_until(lock, absl::ToChronoTime(absl::Now() + kReapTimeout), [&] {
        for (auto& [name, process] : processes_) {
          if (process->pid_ != 0) return false;
        }
        return true;
      });
  if (!all_reaped) std::fprintf(stderr, "nsmcert: supervisor: some children were not reaped\n");
  stopping_ = true;
  lock.unlock();
  const std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  if (thread_.joinable()) thread_.join();
  for (auto& [name, process] : processes_) {
    if (process->pidfd_ >= 0) close(process->pidfd_);
  }
  if (epoll_fd_ >= 0) close(epoll_fd_);
  if (wake_fd_ >= 0) close(wake_fd_);
}

absl::StatusOr<Process*> Supervisor::Start(ProcessSpec spec) {
  if (!IsValidName(spec.name)) {
    return absl::InvalidArgumentError(
        internal::Cat("process name \"", spec.name, "\" must be [A-Za-z0-9._-]+"));
  }
  if (spec.argv.empty() || spec.argv[0].empty()) {
    return absl::InvalidArgumentError(internal::Cat("process ", spec.name, ": empty argv"));
  }
  Process* process = nullptr;
  {
    std::lock_guard lock(mu_);
    if (processes_.contains(spec.name)) {
      return absl::InvalidArgumentError(
          internal::Cat("process name \"", spec.name, "\" is already used"));
    }
    const std::string log_path = internal::Cat(log_dir_, "/", spec.name, ".log");
    auto owned = std::unique_ptr<Process>(new Process(this, std::move(spec), log_path));
    process = owned.get();
    processes_.emplace(process->name(), std::move(owned));
  }
  if (absl::Status launched = Launch(*process); !launched.ok()) {
    std::lock_guard lock(mu_);
    processes_.erase(process->name());
    return launched;
  }
  return process;
}

Process* Supervisor::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = processes_.find(name);
  return it == processes_.end() ? nullptr : it->second.get();
}

absl::Status Supervisor::StopAll(absl::Duration grace) {
  std::vector<Process*> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, process] : processes_) all.push_back(process.get());
  }
  absl::Status first;
  for (Process* process : all) {
    absl::Status stopped = process->Stop(grace);
    if (!stopped.ok() && stopped.code() != absl::StatusCode::kFailedPrecondition && first.ok()) {
      first = stopped;
    }
  }
  return first;
}

absl::Status Supervisor::Launch(Process& process) {
  {
    std::lock_guard lock(mu_);
    if (process.pid_ != 0 || process.launching_) {
      return absl::FailedPreconditionError(
          internal::Cat("process ", process.name(), " is already running"));
    }
    process.launching_ = true;
  }
  // Cleared on every way out, so a failed start can be retried.
  struct LaunchingDone {
    Supervisor* supervisor;
    Process* process;
    ~LaunchingDone() {
      std::lock_guard lock(supervisor->mu_);
      process->launching_ = false;
    }
  } launching_done{this, &process};
  auto plan = PrepareChild(process.spec_, process.log_path_);
  if (!plan.ok()) {
    return absl::Status(plan.status().code(),
                        internal::Cat("start ", process.name(), ": ", plan.status().message()));
  }
  const int start = process.starts() + 1;
  std::string header = internal::Cat("==== nsmcert: start #", start, " of ", process.name(), ":");
  for (const std::string& arg : process.spec_.argv) internal::Append(&header, " ", arg);
  if (!process.spec_.netns_path.empty()) {
    internal::Append(&header, " (netns ", process.spec_.netns_path, ")");
  }
  internal::Append(&header, " ====\n");
  AppendToFile(process.log_path_, header);

  // The fork runs on the supervisor thread (see the header: PR_SET_PDEATHSIG is per thread).
  std::promise<absl::Status> launched;
  auto task = [&] {
    ChildPlan& child = **plan;
    const pid_t pid = fork();
    if (pid < 0) {
      launched.set_value(absl::InternalError(internal::Cat("fork: ", std::strerror(errno))));
      return;
    }
    if (pid == 0) RunChild(child);
    setpgid(pid, pid);  // also from here, so the group exists before anyone signals it
    EmergencyRegistration registration = EmergencyRegistration::ProcessGroup(pid);
    close(child.status_pipe[1]);
    child.status_pipe[1] = -1;
    ChildFailure failure{};
    ssize_t got;
    do {
      got = read(child.status_pipe[0], &failure, sizeof(failure));
    } while (got < 0 && errno == EINTR);
    if (got == static_cast<ssize_t>(sizeof(failure))) {
      int wait_status = 0;
      waitpid(pid, &wait_status, 0);
      std::lock_guard lock(mu_);
      process.last_exit_ = ExitStatus::FromWaitStatus(wait_status);
      launched.set_value(absl::FailedPreconditionError(
          internal::Cat("start ", process.name(), ": ", StepName(failure.step), " ", child.program,
                        ": ", std::strerror(failure.error))));
      return;
    }
    // Exec succeeded (the pipe closed on exec). A pidfd cannot refer to a reused pid: only this
    // thread reaps the child.
    const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
    std::lock_guard lock(mu_);
    process.pid_ = pid;
    process.pidfd_ = pidfd;
    process.starts_ = start;
    process.group_registration_ = std::move(registration);
    if (pidfd >= 0) {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.ptr = &process;
      epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &event);
    }
    changed_.notify_all();
    launched.set_value(absl::OkStatus());
  };
  std::future<absl::Status> result = launched.get_future();
  {
    std::lock_guard lock(mu_);
    tasks_.push_back(task);
  }
  const std::uint64_t one = 1;
  (void)!write(wake_fd_, &one, sizeof(one));
  return result.get();
}

void Supervisor::ReapLocked(Process& process) {
  if (process.pid_ == 0) return;
  const pid_t pid = process.pid_;
  // The exit of the leader ends the daemon: take whatever it left in its group along, and drop the
  // emergency entry while the zombie still holds the id.
  kill(-pid, SIGKILL);
  process.group_registration_.Reset();
  int wait_status = 0;
  if (waitpid(pid, &wait_status, WNOHANG) != pid) return;  // not yet (spurious wakeup)
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, process.pidfd_, nullptr);
  close(process.pidfd_);
  process.pidfd_ = -1;
  process.pid_ = 0;
  process.last_exit_ = ExitStatus::FromWaitStatus(wait_status);
  AppendToFile(process.log_path_,
               internal::Cat("==== nsmcert: ", process.name(), " (start #", process.starts_,
                             ", pid ", pid, ") ", process.last_exit_->ToString(), " ====\n"));
  changed_.notify_all();
}

void Supervisor::Loop() {
  while (true) {
    epoll_event events[16];
    const int ready = epoll_wait(epoll_fd_, events, 16, -1);
    if (ready < 0 && errno != EINTR) {
      std::fprintf(stderr, "nsmcert: supervisor: epoll_wait: %s\n", std::strerror(errno));
      return;
    }
    std::deque<std::function<void()>> tasks;
    bool stopping = false;
    {
      std::lock_guard lock(mu_);
      for (int i = 0; i < ready; ++i) {
        if (events[i].data.ptr == nullptr) {
          std::uint64_t count;
          (void)!read(wake_fd_, &count, sizeof(count));
        } else {
          ReapLocked(*static_cast<Process*>(events[i].data.ptr));
        }
      }
      tasks.swap(tasks_);
      stopping = stopping_;
    }
    for (auto& task : tasks) task();
    if (stopping) return;
  }
}

}  // namespace nsmcert::harness
