// TCP bulk throughput with iperf3: a one-off server in the server namespace, a client in the
// client namespace, the client's JSON report parsed.
#ifndef NSMCERT_BENCH_DATAPATH_IPERF_H_
#define NSMCERT_BENCH_DATAPATH_IPERF_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "bench/datapath/endpoint.h"

namespace nsmcert::bench {

struct TcpBulkResult {
  double seconds = 0;
  double sent_bps = 0;      // bits per second of TCP payload, sender side
  double received_bps = 0;  // the same, receiver side (the figure to compare)
  std::int64_t retransmits = 0;
  int streams = 0;
};

// Parses the report of `iperf3 -c ... -J`. An "error" member in the report becomes
// UNAVAILABLE with iperf3's message; INVALID_ARGUMENT names a missing or malformed field.
absl::StatusOr<TcpBulkResult> ParseIperf3Json(std::string_view json);

struct Iperf3Config {
  std::string program = "iperf3";
  int seconds = 5;
  int streams = 1;
  int realtime_priority = 0;  // SCHED_FIFO priority of both iperf3 processes; 0 = normal
  // How long to wait for the server to listen.
  std::chrono::milliseconds start_timeout = std::chrono::seconds(5);
};

// Runs one iperf3 test from `client` to `server`. The server listens on a port that was free in
// the server namespace a moment before. Both processes are killed if anything fails or runs
// past seconds + 20 s. Errors name the step (spawn, listen, client run, report).
absl::StatusOr<TcpBulkResult> RunIperf3(const Endpoint& client, const Endpoint& server,
                                        const Iperf3Config& config);

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_IPERF_H_
