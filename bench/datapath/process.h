// Spawning a measurement tool (iperf3) inside a network namespace: fork, setns in the child,
// exec. No shell and no `ip netns exec`; the parent's threads never change namespace.
#ifndef NSMCERT_BENCH_DATAPATH_PROCESS_H_
#define NSMCERT_BENCH_DATAPATH_PROCESS_H_

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "reference/kernel/netns.h"

namespace nsmcert::bench {

// Finds `name` the way a shell would: as given when it contains '/', else in $PATH.
// NOT_FOUND names the program.
absl::StatusOr<std::string> FindExecutable(const std::string& name);

// A child process that is killed (SIGKILL) and reaped when its owner goes away, so a failed
// measurement never leaves a tool running.
class ChildProcess {
 public:
  // Runs argv (argv[0] looked up with FindExecutable) inside `ns`, with stdout and stderr sent
  // to the given fds (-1: /dev/null), under SCHED_FIFO at `realtime_priority` when it is not 0.
  // Errors name the program and the step that failed: not found, fork, entering the namespace,
  // the scheduling class, exec (the child reports its failure back before exiting).
  static absl::StatusOr<ChildProcess> SpawnInNetNs(const kernel::NetNs& ns,
                                                   const std::vector<std::string>& argv,
                                                   int stdout_fd = -1, int stderr_fd = -1,
                                                   int realtime_priority = 0);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // True while the process has not been reaped; reaps it if it exited (its status is kept).
  bool Running();
  // Waits up to `timeout` for the process to exit. Returns its wait status (as waitpid gives
  // it); DEADLINE_EXCEEDED while it still runs.
  absl::StatusOr<int> Wait(std::chrono::milliseconds timeout);
  // SIGKILL and reap, if still running.
  void Kill();

 private:
  ChildProcess(pid_t pid, std::string program) : pid_(pid), program_(std::move(program)) {}
  pid_t pid_ = -1;
  std::string program_;
  int status_ = 0;
  bool reaped_ = false;
};

// A readable description of a wait status: "exited with 1", "killed by signal 9".
std::string DescribeWaitStatus(int status);

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_PROCESS_H_
