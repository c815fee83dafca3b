// A UDP traffic generator for one path under test: a sender in the client namespace and a
// receiver in the server namespace (or, in echo mode, a reflector there and the receiver back in
// the client namespace), measuring loss, duplicates, reordering and per-packet delay.
//
// Every packet carries a probe header (probe.h): the trial id, a sequence number and the send
// time (CLOCK_MONOTONIC). The receiver takes its own clock on arrival, so one-way delay is
// arrival minus send time (both ends share the machine's clock), and in echo mode the same gives
// the round-trip time. Delay is measured at the application (after recvmmsg returns), so it
// includes the receiver's wake-up; it is the same for every path, which is what the ratios need.
//
// Sockets are opened on threads that entered the endpoints' namespaces (kernel::RunInNetNs) and
// stay bound there; the trial's own threads are ordinary threads using those sockets.
//
// Threading: one trial at a time per generator (Run is not re-entrant). The generator owns its
// sockets; the endpoints' namespaces must outlive it.
#ifndef NSMCERT_BENCH_DATAPATH_TRAFFIC_GEN_H_
#define NSMCERT_BENCH_DATAPATH_TRAFFIC_GEN_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "bench/datapath/endpoint.h"
#include "bench/datapath/stats.h"
#include "bench/datapath/unique_fd.h"

namespace nsmcert::bench {

enum class TrialMode {
  kOneWay,  // client -> server; delay = one-way
  kEcho,    // client -> server -> back to client; delay = round trip
};
const char* TrialModeName(TrialMode mode);

struct TrialConfig {
  TrialMode mode = TrialMode::kOneWay;
  size_t payload_bytes = 18;  // UDP payload; at least kProbeHeaderSize (see UdpPayloadForFrame)
  // Packets per second; 0 = as fast as the sender can, for `duration`.
  double rate_pps = 0;
  std::chrono::nanoseconds duration = std::chrono::seconds(1);
  // After the last packet, how long to wait for stragglers before counting the rest as lost
  // (the wait ends early once every packet has arrived).
  std::chrono::nanoseconds drain = std::chrono::milliseconds(200);
  // Packets per sendmmsg call; 0 = chosen from the rate (1 at low rates, up to 32).
  int batch = 0;
  // The receiver polls its socket without sleeping (lower, steadier delay; costs a core).
  bool busy_poll = false;
  // SCHED_FIFO priority (1..99) for the trial's threads, so other work on the machine does not
  // preempt them; 0 = normal scheduling. Needs CAP_SYS_NICE. The kernel's RT throttling
  // (sched_rt_runtime_us) still leaves other tasks a share of each second.
  int realtime_priority = 0;
  // When set and it becomes true, the sender stops early and Run returns CANCELLED.
  const std::atomic<bool>* cancel = nullptr;
};

struct TrialResult {
  TrialMode mode = TrialMode::kOneWay;
  size_t payload_bytes = 0;
  double offered_pps = 0;  // as configured (0 = unthrottled)
  double sent_pps = 0;     // sent / sending time
  double send_seconds = 0;
  std::uint64_t sent = 0;
  std::uint64_t received = 0;  // distinct packets of this trial that arrived
  std::uint64_t lost = 0;      // sent - received
  std::uint64_t duplicates = 0;
  std::uint64_t reordered = 0;
  std::uint64_t stray = 0;         // datagrams that were not probes of this trial
  std::uint64_t send_retries = 0;  // sendmmsg calls refused for lack of buffer space, retried
  double LossRatio() const {
    return sent == 0 ? 1.0 : static_cast<double>(lost) / static_cast<double>(sent);
  }
  LatencySummary latency;  // one-way delay or round-trip time of the distinct packets
};

// Picks the sendmmsg batch for a rate: small batches keep delay low at low rates, bigger ones
// let the sender reach high rates with few system calls.
int AutoBatch(double rate_pps);

struct GeneratorOptions {
  // SO_RCVBUF/SO_SNDBUF of both sockets. The receive buffer is the queue in front of the
  // receiving application: a larger one hides longer receiver stalls (no loss, more delay), a
  // smaller one turns them into loss sooner. Fixed per run so that paths compare like for like.
  int socket_buffer_bytes = 2 << 20;
};

class TrafficGenerator {
 public:
  // Opens the client socket (bound to client.ip, connected to the server socket) and the server
  // socket (bound to server.ip on a kernel-chosen port), each inside its endpoint's namespace.
  // Errors name the endpoint.
  static absl::StatusOr<std::unique_ptr<TrafficGenerator>> Create(
      const Endpoint& client, const Endpoint& server, const GeneratorOptions& options = {});
  ~TrafficGenerator();
  TrafficGenerator(const TrafficGenerator&) = delete;
  TrafficGenerator& operator=(const TrafficGenerator&) = delete;

  // Runs one trial. INVALID_ARGUMENT names a bad config field; CANCELLED when config.cancel was
  // raised; INTERNAL names the failing socket call.
  absl::StatusOr<TrialResult> Run(const TrialConfig& config);

  // Sends short echo trials until one comes back whole, or `timeout` passes (DEADLINE_EXCEEDED
  // with the last trial's counts). A fresh path drops packets until its links are operational
  // and neighbours are resolved both ways; RFC 2544 §23 sends such "learning frames" before
  // measuring for the same reason. Returns how long it took.
  absl::StatusOr<std::chrono::nanoseconds> WarmUp(std::chrono::milliseconds timeout);

  std::uint16_t server_port() const { return server_port_; }

 private:
  TrafficGenerator(UniqueFd client, UniqueFd server, std::uint16_t server_port)
      : client_(std::move(client)), server_(std::move(server)), server_port_(server_port) {}

  UniqueFd client_;
  UniqueFd server_;
  std::uint16_t server_port_;
  std::uint16_t next_trial_ = 1;
};

// CLOCK_MONOTONIC in nanoseconds, the clock probes carry.
std::uint64_t MonotonicNs();

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_TRAFFIC_GEN_H_
