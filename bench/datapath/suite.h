// The data-path benchmark suite: sets up every path under test, measures each the same way,
// interleaved so that a path and its baseline are measured close together in time, and returns
// one JSON document (schema "nsmcert-datapath/1", described in README.md).
//
// Measurements per path:
//  - per frame size: the zero-loss rate (NDR) and the 0.5%-loss rate (PDR) by binary search
//    (rate_search.h), repeated and the median kept, then one-way latency at fractions of the
//    NDR;
//  - per frame size: round-trip time (echo mode) at one fixed, low rate, the same for all paths;
//  - TCP bulk throughput with iperf3.
// A measurement that fails is recorded under "errors" and the suite goes on with the rest.
#ifndef NSMCERT_BENCH_DATAPATH_SUITE_H_
#define NSMCERT_BENCH_DATAPATH_SUITE_H_

#include <atomic>
#include <chrono>
#include <ostream>
#include <vector>

#include "absl/status/statusor.h"
#include "bench/datapath/iperf.h"
#include "bench/datapath/path.h"
#include "bench/datapath/rate_search.h"
#include "bench/datapath/traffic_gen.h"
#include "nlohmann/json.hpp"

namespace nsmcert::bench {

struct SuiteConfig {
  std::vector<size_t> frame_sizes = {64, 128, 256, 512, 1024, 1280, 1518};
  std::chrono::milliseconds search_trial{1000};  // each binary-search trial
  std::chrono::milliseconds drain{200};
  double resolution = 0.02;
  int max_trials = 10;
  int udp_repeats = 3;      // searches per path and frame size; the median is reported
  double pdr_loss = 0.005;  // 0 = no PDR search
  std::vector<double> latency_fractions = {0.1, 0.5, 0.9};
  std::chrono::milliseconds latency_trial{2000};
  double rtt_rate_pps = 5000;  // 0 = no RTT trial
  std::chrono::milliseconds rtt_trial{2000};
  int tcp_seconds = 5;  // 0 = no iperf3
  int tcp_repeats = 2;
  bool busy_poll = false;
  // SCHED_FIFO priority of the generator's threads (see TrialConfig): on by default so that
  // other work on the machine disturbs the figures less; off in the smoke preset.
  int realtime_priority = 50;
  // Run iperf3 at realtime_priority too. Without it, other load on the machine sets the TCP
  // figure; with it, TCP reaches what an idle machine gives, at the cost of retransmits (the
  // kernel's softirq thread gets less time).
  bool tcp_realtime = true;
  GeneratorOptions generator;
  std::string iperf3 = "iperf3";
  const std::atomic<bool>* cancel = nullptr;  // raised: stop after the current trial
};

// The quick configuration of `--smoke`: one frame size, short trials, a coarse search.
SuiteConfig SmokeSuiteConfig();

// Validates `config` (INVALID_ARGUMENT names the field), then runs the suite over `paths`.
// Progress goes to `log`, one line per step. CANCELLED when config.cancel was raised; every
// path is torn down in any case.
absl::StatusOr<nlohmann::json> RunSuite(const std::vector<PathKind>& paths,
                                        const SuiteConfig& config, std::ostream& log);

// JSON forms of the results (the pieces of the suite's document).
nlohmann::json ToJson(const LatencySummary& latency);
nlohmann::json ToJson(const TrialResult& trial);
nlohmann::json ToJson(const RateSearchResult& search, size_t frame_size);
nlohmann::json ToJson(const TcpBulkResult& tcp);
// uname, CPU model and count, load average, for the report.
nlohmann::json MachineInfo();

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_SUITE_H_
