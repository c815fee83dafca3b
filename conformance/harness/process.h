// Supervising daemons: start a command inside a node's network namespace with its environment and
// a log file, wait for its gRPC health, and kill, stop, pause, resume or restart it on demand
// (fault injection).
//
// How a process is started: the supervisor's own thread forks; the child sets PR_SET_PDEATHSIG
// (SIGKILL), becomes leader of a new process group, enters the namespace (setns), points stdin at
// /dev/null and stdout+stderr at the process's log file (appended, one file per process name, kept
// after the supervisor is gone), resets signal dispositions and mask, and execs. Exec failures
// come back to Start() as errors. Forking on the supervisor's long-lived thread matters:
// PR_SET_PDEATHSIG fires when the *thread* that forked exits, so a short-lived caller thread would
// take the daemon with it.
//
// Signals go to the whole process group, so helpers a daemon forks are stopped and killed with it.
// The supervisor's thread reaps every child as soon as it exits (no zombies) and records its exit
// status. Do not reap the supervisor's children elsewhere (waitpid(-1), SIGCHLD set to SIG_IGN).
//
// When the Supervisor is destroyed, every child still running gets SIGKILL and is reaped. If the
// whole harness dies, PR_SET_PDEATHSIG kills the children; on SIGINT/SIGTERM/SIGHUP the emergency
// handler (emergency_cleanup.h) kills their process groups.
//
// Threading: all methods are thread-safe. Process objects are owned by their Supervisor and stay
// valid until it is destroyed.
#ifndef NSMCERT_CONFORMANCE_HARNESS_PROCESS_H_
#define NSMCERT_CONFORMANCE_HARNESS_PROCESS_H_

#include <sys/types.h>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/harness/emergency_cleanup.h"
#include "conformance/harness/health.h"

namespace nsmcert::harness {

struct ProcessSpec {
  // Names the process and its log file "<log dir>/<name>.log": [A-Za-z0-9._-], unique per
  // supervisor.
  std::string name{};
  // argv[0] is the program: a path, or a name looked up in PATH (at Start, in the parent).
  std::vector<std::string> argv{};
  // Variables set in the child, over the inherited environment (or alone, see below).
  std::vector<std::pair<std::string, std::string>> env{};
  bool inherit_env = true;
  // A network namespace file to run in (e.g. TopologyNamespace::path); "" = the supervisor's.
  std::string netns_path{};
  // Working directory; "" = the supervisor's.
  std::string working_dir{};
};

// How a process ended.
struct ExitStatus {
  bool signaled = false;
  int code = 0;    // exit code when !signaled
  int signal = 0;  // terminating signal when signaled

  static ExitStatus FromWaitStatus(int wait_status);
  bool success() const { return !signaled && code == 0; }
  // "exited with code 3" / "killed by signal 9 (Killed)".
  std::string ToString() const;
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

class Supervisor;

class Process {
 public:
  const std::string& name() const { return spec_.name; }
  const ProcessSpec& spec() const { return spec_; }
  const std::string& log_path() const { return log_path_; }

  // The pid (= process group id) of the running incarnation; 0 when not running.
  pid_t pid() const;
  bool running() const;
  // How many times the process was started (1 after Start, 2 after one Restart ...).
  int starts() const;
  // The exit status of the last incarnation that ended, if any.
  std::optional<ExitStatus> last_exit() const;

  // SIGKILL to the process group; returns once the process is reaped. FAILED_PRECONDITION when it
  // is not running.
  absl::Status Kill();
  // SIGTERM (and SIGCONT, so a paused process can act on it) to the group; SIGKILL after `grace`.
  // Returns once reaped; the exit status says which one ended it. FAILED_PRECONDITION when not
  // running.
  absl::Status Stop(absl::Duration grace = absl::Seconds(5));
  // SIGSTOP to the group; returns once the process shows as stopped.
  absl::Status Pause();
  // SIGCONT to the group; returns once the process runs again.
  absl::Status Resume();
  // Any signal to the group.
  absl::Status Signal(int signal);
  // Stops the process if it runs (with `grace`), then starts it again with the same spec and the
  // same log file.
  absl::Status Restart(absl::Duration grace = absl::Seconds(5));
  // Waits until the running incarnation ends. DEADLINE_EXCEEDED after `timeout`; returns the last
  // exit status at once when not running (FAILED_PRECONDITION if it never ran to an end).
  absl::StatusOr<ExitStatus> Wait(absl::Duration timeout);

  // WaitHealthy (health.h) that gives up as soon as this process is no longer running, with an
  // error carrying its exit status and the tail of its log.
  absl::Status WaitHealthy(const HealthTarget& target, const std::vector<std::string>& services,
                           absl::Duration timeout);

  // The whole log file ("" when unreadable), and its last `lines` lines.
  std::string ReadLog() const;
  std::string LogTail(int lines = 20) const;

 private:
  friend class Supervisor;
  Process(Supervisor* supervisor, ProcessSpec spec, std::string log_path)
      : supervisor_(supervisor), spec_(std::move(spec)), log_path_(std::move(log_path)) {}

  // Waits (with the supervisor's lock held in `lock`) until incarnation `start` has been reaped.
  bool WaitReapedLocked(std::unique_lock<std::mutex>& lock, int start, absl::Time deadline);
  absl::Status SignalLocked(int signal);
  // Polls /proc until the process is (or is no longer) stopped.
  absl::Status WaitStopped(bool stopped);

  Supervisor* const supervisor_;
  const ProcessSpec spec_;
  const std::string log_path_;
  // Guarded by supervisor_->mu_.
  pid_t pid_ = 0;
  int pidfd_ = -1;
  int starts_ = 0;
  bool launching_ = false;  // a Launch is between its checks and the fork; others must wait
  std::optional<ExitStatus> last_exit_;
  EmergencyRegistration group_registration_;
};

class Supervisor {
 public:
  struct Options {
    // Where log files go; created if missing. "" = a new directory under $TMPDIR (or /tmp).
    std::string log_dir{};
    // Install the SIGINT/SIGTERM/SIGHUP cleanup handler (emergency_cleanup.h).
    bool handle_signals = true;
  };

  static absl::StatusOr<std::unique_ptr<Supervisor>> Create(Options options);
  static absl::StatusOr<std::unique_ptr<Supervisor>> Create() { return Create(Options()); }
  ~Supervisor();  // SIGKILLs and reaps every running child, then stops its thread
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // Starts a process. INVALID_ARGUMENT for a bad spec (empty argv, bad or duplicate name),
  // NOT_FOUND when the program or the namespace does not exist, FAILED_PRECONDITION when exec
  // failed in the child (the message carries the errno text; the log file has the details).
  absl::StatusOr<Process*> Start(ProcessSpec spec);
  // The process called `name`, or nullptr.
  Process* Find(std::string_view name) const;
  // Stops every running process (see Process::Stop); returns the first failure.
  absl::Status StopAll(absl::Duration grace = absl::Seconds(5));
  const std::string& log_dir() const { return log_dir_; }

 private:
  friend class Process;
  explicit Supervisor(std::string log_dir) : log_dir_(std::move(log_dir)) {}

  // Starts the next incarnation of `process` (runs the fork on the supervisor thread).
  absl::Status Launch(Process& process);
  void Loop();
  // Reaps `process` if its pidfd says it exited. Requires mu_.
  void ReapLocked(Process& process);

  const std::string log_dir_;
  mutable std::mutex mu_;
  std::condition_variable changed_;  // a process was started or reaped
  std::map<std::string, std::unique_ptr<Process>, std::less<>> processes_;
  // Work for the supervisor thread: fork requests, run in order.
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  int wake_fd_ = -1;   // eventfd: new task or new pidfd to watch
  int epoll_fd_ = -1;  // wake_fd_ + every live pidfd
  std::thread thread_;
};

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_PROCESS_H_
