// Measuring code of the scenario benchmarks, free of daemons and system calls where it can be:
// latency summaries in milliseconds, connection rates, resident memory read from /proc, the heal
// time read off a timeline of probes, CPU time accounting from /proc/stat and /proc/softirqs.
//
// Threading: the functions are thread-safe; ProbeTimeline is not (one prober owns it).
#ifndef NSMCERT_BENCH_SCENARIO_MEASURE_H_
#define NSMCERT_BENCH_SCENARIO_MEASURE_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace nsmcert::bench::scenario {

// Percentiles (nearest rank) of durations given in nanoseconds, reported in milliseconds.
struct MsSummary {
  std::uint64_t count = 0;  // 0: no samples, every other field is zero
  double min_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};
// Sorts `samples_ns` in place.
MsSummary SummarizeMs(std::vector<std::int64_t>& samples_ns);
nlohmann::json ToJson(const MsSummary& summary);

// Operations per second: `count` over `wall_ns` (0 when wall_ns <= 0).
double PerSecond(std::uint64_t count, std::int64_t wall_ns);

// The resident set size from the text of /proc/<pid>/status (the "VmRSS:  1234 kB" line), in
// bytes. NOT_FOUND when the line is missing (a kernel thread, a zombie), INVALID_ARGUMENT when
// it does not parse.
absl::StatusOr<std::int64_t> ParseVmRssBytes(std::string_view proc_status);
// The same for a running process; NOT_FOUND naming the pid when it is gone.
absl::StatusOr<std::int64_t> ReadRssBytes(pid_t pid);

// CPU time a process has used so far (every thread, the exited ones included), from
// /proc/<pid>/stat, in clock ticks (USER_HZ), and its current number of threads.
struct ProcessCpu {
  std::int64_t user_ticks = 0;
  std::int64_t system_ticks = 0;
  std::int64_t threads = 0;
};
// The text of /proc/<pid>/stat (the command name may hold spaces and parentheses: fields are
// counted after the last ')'). INVALID_ARGUMENT when it does not parse.
absl::StatusOr<ProcessCpu> ParseProcPidStat(std::string_view text);
// The same for a running process; NOT_FOUND naming the pid when it is gone.
absl::StatusOr<ProcessCpu> ReadProcessCpu(pid_t pid);
// Milliseconds per clock tick of /proc (1000 / sysconf(_SC_CLK_TCK)).
double MsPerTick();

// Processes whose executable's file name is `exe_name` and whose network namespace has inode
// `netns_inode` (e.g. the one nsmgr of a node), from /proc. Processes that vanish while being
// read are skipped.
std::vector<pid_t> FindPids(std::uint64_t netns_inode, std::string_view exe_name);

// Resident memory of one process before and after a number of connections were made.
struct MemoryGrowth {
  std::string process;
  std::int64_t before_bytes = 0;
  std::int64_t after_bytes = 0;
  std::uint64_t connections = 0;
  // (after - before) / connections; may be negative (memory given back, or noise).
  double BytesPerConnection() const;
};
nlohmann::json ToJson(const MemoryGrowth& growth);

// One data-path probe (an ICMP echo through a connection) and whether it was answered.
struct Probe {
  std::int64_t sent_ns = 0;  // CLOCK_MONOTONIC when it was sent
  bool ok = false;
};

// What a kill did to a connection, read off the probes and the control plane's re-requests.
struct HealOutcome {
  // Some probe sent after the kill went unanswered.
  bool outage = false;
  // From the kill to the first unanswered probe, and the longest run of unanswered probes (from
  // the first unanswered send to the next answered send), when there was an outage.
  std::optional<std::int64_t> outage_start_ns;
  std::int64_t longest_outage_ns = 0;
  // From the kill to the first successful re-request (the client's heal), if one came.
  std::optional<std::int64_t> rerequest_ns;
  // The heal time: from the kill to the first answered probe sent at or after the re-request
  // (or, without a re-request, after the last outage) that starts a run of answered probes
  // lasting to the end of the timeline. Empty when the connection did not come back.
  std::optional<std::int64_t> healed_ns;
};
// `probes` in send order; `rerequests_ns`: CLOCK_MONOTONIC times of successful Requests the
// client sent for the connection (any order). Only probes and re-requests at or after `kill_ns`
// count. Without a re-request and without an outage, healed_ns is 0 (nothing broke).
HealOutcome AnalyseHeal(std::int64_t kill_ns, const std::vector<Probe>& probes,
                        const std::vector<std::int64_t>& rerequests_ns);
nlohmann::json ToJson(const HealOutcome& outcome);

// The median of `values` (the lower middle for an even count); empty for no values.
std::optional<double> Median(std::vector<double> values);

// Per-CPU time from /proc/stat, in clock ticks (USER_HZ).
struct CpuTimes {
  int cpu = -1;  // -1: the "cpu" total line
  std::uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                steal = 0;
  std::uint64_t Busy() const { return user + nice + system + irq + softirq + steal; }
};
// Every "cpu" line of /proc/stat text (the total first). INVALID_ARGUMENT naming the line when
// one does not parse.
absl::StatusOr<std::vector<CpuTimes>> ParseProcStat(std::string_view text);
// Per-CPU counts of one /proc/softirqs row (e.g. "NET_RX"). NOT_FOUND when the row is missing.
absl::StatusOr<std::vector<std::uint64_t>> ParseSoftirqRow(std::string_view text,
                                                           std::string_view row);

// The difference of two /proc/stat snapshots (same CPUs), and per CPU the share of its time in
// user, system and softirq context.
nlohmann::json CpuDeltaJson(const std::vector<CpuTimes>& before,
                            const std::vector<CpuTimes>& after);

}  // namespace nsmcert::bench::scenario

#endif  // NSMCERT_BENCH_SCENARIO_MEASURE_H_
