// Reading process facts from /proc: the one place the harness parses /proc/<pid>/stat and lists
// processes. Used by run markers (is the owner alive?), the leak audit (which children exist?),
// the sweep and teardown (who still lives in a namespace?) and the supervisor (is it stopped?).
#ifndef NSMCERT_CONFORMANCE_HARNESS_PROC_H_
#define NSMCERT_CONFORMANCE_HARNESS_PROC_H_

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::harness {

// The fields of /proc/<pid>/stat the harness uses.
struct ProcStat {
  pid_t pid = 0;
  std::string comm;  // executable name, at most 15 bytes, as the kernel keeps it
  char state = '?';  // R, S, D, T (stopped), t (traced), Z (zombie), X ...
  pid_t ppid = 0;
  pid_t pgrp = 0;
  // Start time in clock ticks after boot. (pid, start_time) names a process uniquely even when
  // pids are reused.
  std::uint64_t start_time = 0;
};

// NOT_FOUND when the process does not exist (any more).
absl::StatusOr<ProcStat> ReadProcStat(pid_t pid);

// Every process id under /proc at the time of the call (processes come and go while reading).
std::vector<pid_t> ListPids();

// The descendants of `ancestor` (children, their children, ...), excluding `ancestor` itself.
std::vector<ProcStat> ListDescendants(pid_t ancestor);

// The network-namespace inode of process `pid` (stat of /proc/<pid>/ns/net), or NOT_FOUND.
absl::StatusOr<std::uint64_t> NetNsInodeOfPid(pid_t pid);

// Processes whose network namespace has inode `netns_inode`.
std::vector<pid_t> PidsInNetNs(std::uint64_t netns_inode);

// The command line of `pid`, arguments joined by spaces (empty for kernel threads or on error).
std::string ReadCmdline(pid_t pid);

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_PROC_H_
