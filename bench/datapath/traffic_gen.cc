#include "bench/datapath/traffic_gen.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/datapath/probe.h"
#include "reference/kernel/ip.h"

namespace nsmcert::bench {
namespace {

constexpr int kRecvBatch = 64;
constexpr size_t kRecvBufferSize = 2048;  // more than any payload up to a 1518-byte frame
// The receiver keeps at most this many delay samples (64 MiB); later packets are still counted.
constexpr size_t kMaxSamples = 8u << 20;

absl::Status ErrnoError(int err, const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(err)));
}

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

absl::StatusOr<SocketAddress> MakeAddress(const std::string& ip, std::uint16_t port) {
  absl::StatusOr<kernel::IpAddress> parsed = kernel::IpAddress::Parse(ip, "endpoint ip");
  if (!parsed.ok()) return parsed.status();
  SocketAddress out;
  if (parsed->family == kernel::IpFamily::kV4) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, parsed->bytes.data(), 4);
    out.length = sizeof(sockaddr_in);
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, parsed->bytes.data(), 16);
    out.length = sizeof(sockaddr_in6);
  }
  return out;
}

std::uint16_t PortOf(const sockaddr_storage& addr) {
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
}

std::string Describe(const Endpoint& ep) {
  return absl::StrCat(ep.ip, " in namespace ",
                      ep.netns_name.empty() ? (ep.ns ? ep.ns->InodeUrl() : "?") : ep.netns_name);
}

// Opens a UDP socket inside the endpoint's namespace, bound to its address (port 0 = any), and
// connected to `peer` when given. Returns the socket and its bound port.
absl::StatusOr<std::pair<UniqueFd, std::uint16_t>> OpenUdpSocket(const Endpoint& ep,
                                                                 const SocketAddress* peer,
                                                                 int buffer_bytes) {
  if (ep.ns == nullptr || !ep.ns->valid()) {
    return absl::FailedPreconditionError(absl::StrCat("endpoint ", ep.ip, ": no namespace"));
  }
  absl::StatusOr<SocketAddress> local = MakeAddress(ep.ip, 0);
  if (!local.ok()) return local.status();
  const std::string what = Describe(ep);
  using Result = absl::StatusOr<std::pair<UniqueFd, std::uint16_t>>;
  return kernel::RunInNetNs(*ep.ns, [&]() -> Result {
    UniqueFd fd(::socket(local->storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
    if (!fd.valid()) return ErrnoError(errno, absl::StrCat("udp socket for ", what));
    // The same buffers on every path whatever the sysctls say: root may exceed
    // net.core.rmem_max with the FORCE variants.
    int bytes = buffer_bytes;
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof(bytes)) != 0) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
    }
    if (::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) != 0) {
      ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
    }
    if (::bind(fd.get(), local->get(), local->length) != 0) {
      return ErrnoError(errno, absl::StrCat("bind udp socket to ", what));
    }
    sockaddr_storage bound{};
    socklen_t bound_len = sizeof(bound);
    if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
      return ErrnoError(errno, absl::StrCat("getsockname of ", what));
    }
    if (peer != nullptr && ::connect(fd.get(), peer->get(), peer->length) != 0) {
      return ErrnoError(errno, absl::StrCat("connect udp socket of ", what));
    }
    return std::make_pair(std::move(fd), PortOf(bound));
  });
}

// Reads and drops whatever is queued on `fd` (leftovers of an earlier trial).
void DrainSocket(int fd) {
  std::array<std::uint8_t, kRecvBufferSize> buf;
  while (::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT) >= 0) {
  }
}

// Waits for `fd` to become readable for up to 1 ms, or returns at once when busy polling.
bool WaitReadable(int fd, bool busy_poll) {
  if (busy_poll) return true;
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 1) > 0;
}

// Moves the calling thread to SCHED_FIFO at `priority` (0: leaves it alone).
absl::Status EnterRealtime(int priority) {
  if (priority == 0) return absl::OkStatus();
  sched_param param{};
  param.sched_priority = priority;
  if (int err = ::pthread_setschedparam(::pthread_self(), SCHED_FIFO, &param); err != 0) {
    return ErrnoError(err, absl::StrCat("SCHED_FIFO priority ", priority));
  }
  return absl::OkStatus();
}

bool Transient(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// Receive buffers for recvmmsg, optionally with room for the sender's address.
struct RecvBatch {
  std::vector<std::array<std::uint8_t, kRecvBufferSize>> buffers{kRecvBatch};
  std::array<iovec, kRecvBatch> iov{};
  std::array<mmsghdr, kRecvBatch> msgs{};
  std::array<sockaddr_storage, kRecvBatch> names{};

  void Reset(bool with_names) {
    for (int i = 0; i < kRecvBatch; ++i) {
      iov[i] = {buffers[i].data(), kRecvBufferSize};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (with_names) {
        msgs[i].msg_hdr.msg_name = &names[i];
        msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      }
    }
  }
};

// Counts the probes of one trial arriving on a socket and keeps their delays.
struct Receiver {
  int fd = -1;
  std::uint16_t trial = 0;
  bool busy_poll = false;
  int realtime_priority = 0;
  SequenceTracker tracker{std::numeric_limits<std::uint32_t>::max()};
  std::vector<std::int64_t> samples;
  std::uint64_t stray = 0;
  absl::Status error;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> unique{0};

  void Loop() {
    error = EnterRealtime(realtime_priority);
    if (!error.ok()) return;
    auto batch = std::make_unique<RecvBatch>();
    while (!stop.load(std::memory_order_relaxed)) {
      if (!WaitReadable(fd, busy_poll)) continue;
      batch->Reset(false);
      int n = ::recvmmsg(fd, batch->msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (Transient(errno)) continue;
        error = ErrnoError(errno, "recvmmsg");
        return;
      }
      const std::uint64_t now = MonotonicNs();
      for (int i = 0; i < n; ++i) {
        std::optional<ProbeHeader> probe =
            ReadProbe(batch->buffers[i].data(), batch->msgs[i].msg_len);
        if (!probe.has_value() || probe->trial != trial) {
          ++stray;
          continue;
        }
        if (tracker.Record(probe->seq) && samples.size() < kMaxSamples) {
          samples.push_back(static_cast<std::int64_t>(now - probe->send_ns));
        }
      }
      unique.store(tracker.unique(), std::memory_order_release);
    }
  }
};

// Sends every datagram it receives back to where it came from (the echo mode's far end).
struct Reflector {
  int fd = -1;
  bool busy_poll = false;
  int realtime_priority = 0;
  absl::Status error;
  std::atomic<bool> stop{false};

  void Loop() {
    error = EnterRealtime(realtime_priority);
    if (!error.ok()) return;
    auto batch = std::make_unique<RecvBatch>();
    while (!stop.load(std::memory_order_relaxed)) {
      if (!WaitReadable(fd, busy_poll)) continue;
      batch->Reset(true);
      int n = ::recvmmsg(fd, batch->msgs.data(), kRecvBatch, MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (Transient(errno)) continue;
        error = ErrnoError(errno, "recvmmsg (reflector)");
        return;
      }
      for (int i = 0; i < n; ++i) batch->iov[i].iov_len = batch->msgs[i].msg_len;
      int done = 0;
      while (done < n && !stop.load(std::memory_order_relaxed)) {
        int r = ::sendmmsg(fd, batch->msgs.data() + done, n - done, 0);
        if (r < 0) {
          if (Transient(errno) || errno == ENOBUFS) continue;
          error = ErrnoError(errno, "sendmmsg (reflector)");
          return;
        }
        done += r;
      }
    }
  }
};

void SleepUntil(std::uint64_t when) {
  timespec ts{static_cast<time_t>(when / 1'000'000'000), static_cast<long>(when % 1'000'000'000)};
  ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr);
}

// Waits until `due` (CLOCK_MONOTONIC ns). Normally it sleeps until shortly before and then spins:
// sleeping alone would overshoot by the scheduler's wake-up latency, spinning alone would burn a
// core at low rates. A real-time thread wakes up promptly and must not spin: while it runs, the
// kernel's softirq thread on its CPU (which finishes the packet work the sender's own system
// calls defer) cannot, and packets would wait until the trial ends.
// Returns whether it slept.
bool WaitUntil(std::uint64_t due, bool realtime) {
  constexpr std::uint64_t kSpinNs = 60'000;
  if (realtime) {
    if (due <= MonotonicNs()) return false;
    SleepUntil(due);
    return true;
  }
  bool slept = false;
  if (due > MonotonicNs() + 2 * kSpinNs) {
    SleepUntil(due - kSpinNs);
    slept = true;
  }
  while (MonotonicNs() < due) {
  }
  return slept;
}

struct SendOutcome {
  std::uint64_t sent = 0;
  std::uint64_t retries = 0;
  double seconds = 0;
  bool cancelled = false;
  absl::Status error;
};

SendOutcome Send(int fd, const TrialConfig& config, std::uint16_t trial, std::uint64_t total,
                 int batch) {
  // Timer slack defaults to 50 us, longer than the gap between batches at moderate rates.
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  SendOutcome out;
  out.error = EnterRealtime(config.realtime_priority);
  if (!out.error.ok()) return out;
  std::vector<std::vector<std::uint8_t>> buffers(batch,
                                                 std::vector<std::uint8_t>(config.payload_bytes));
  std::vector<iovec> iov(batch);
  std::vector<mmsghdr> msgs(batch);
  for (int i = 0; i < batch; ++i) {
    iov[i] = {buffers[i].data(), buffers[i].size()};
    msgs[i] = {};
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  const bool paced = config.rate_pps > 0;
  const double ns_per_packet = paced ? 1e9 / config.rate_pps : 0;
  const std::uint64_t start = MonotonicNs();
  const std::uint64_t deadline = start + static_cast<std::uint64_t>(config.duration.count());
  const bool realtime = config.realtime_priority > 0;
  // A real-time sender that never sleeps (unthrottled, or behind schedule) gives the CPU away
  // briefly this often, for the same reason WaitUntil does not spin.
  constexpr std::uint64_t kRealtimeYieldNs = 500'000;
  std::uint64_t last_yield = start;
  std::uint64_t seq = 0;
  while (true) {
    if (config.cancel != nullptr && config.cancel->load(std::memory_order_relaxed)) {
      out.cancelled = true;
      break;
    }
    int k = batch;
    if (paced) {
      if (seq >= total) break;
      if (WaitUntil(start + static_cast<std::uint64_t>(static_cast<double>(seq) * ns_per_packet),
                    realtime)) {
        last_yield = MonotonicNs();
      }
      k = static_cast<int>(std::min<std::uint64_t>(batch, total - seq));
    } else if (MonotonicNs() >= deadline) {
      break;
    }
    if (realtime && MonotonicNs() - last_yield > kRealtimeYieldNs) {
      SleepUntil(MonotonicNs() + 1'000);
      last_yield = MonotonicNs();
    }
    const std::uint64_t stamp = MonotonicNs();
    for (int i = 0; i < k; ++i) {
      WriteProbe({trial, static_cast<std::uint32_t>(seq + i), stamp}, buffers[i].data());
    }
    int r = ::sendmmsg(fd, msgs.data(), k, 0);
    if (r < 0) {
      // A full device queue or socket buffer: the packets were not sent; try again.
      if (Transient(errno) || errno == ENOBUFS) {
        ++out.retries;
        continue;
      }
      out.error = ErrnoError(errno, "sendmmsg");
      break;
    }
    seq += static_cast<std::uint64_t>(r);
  }
  std::uint64_t end = MonotonicNs();
  if (paced) {
    // Count the time up to when the next packet would have been due, so a trial that kept pace
    // reports exactly its rate even though its last batch left early in its slot.
    end =
        std::max(end, start + static_cast<std::uint64_t>(static_cast<double>(seq) * ns_per_packet));
  }
  out.sent = seq;
  out.seconds = static_cast<double>(end - start) / 1e9;
  return out;
}

}  // namespace

const char* TrialModeName(TrialMode mode) {
  return mode == TrialMode::kOneWay ? "one-way" : "echo";
}

std::uint64_t MonotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

int AutoBatch(double rate_pps) {
  if (rate_pps <= 0) return 32;
  // About one batch per 20 us: a batch of one up to 50k packets/s.
  return std::clamp(static_cast<int>(rate_pps / 50'000), 1, 32);
}

absl::StatusOr<std::unique_ptr<TrafficGenerator>> TrafficGenerator::Create(
    const Endpoint& client, const Endpoint& server, const GeneratorOptions& options) {
  if (options.socket_buffer_bytes < 4096) {
    return absl::InvalidArgumentError("socket_buffer_bytes: must be >= 4096");
  }
  auto server_socket = OpenUdpSocket(server, nullptr, options.socket_buffer_bytes);
  if (!server_socket.ok()) return server_socket.status();
  absl::StatusOr<SocketAddress> server_address = MakeAddress(server.ip, server_socket->second);
  if (!server_address.ok()) return server_address.status();
  auto client_socket = OpenUdpSocket(client, &*server_address, options.socket_buffer_bytes);
  if (!client_socket.ok()) return client_socket.status();
  return std::unique_ptr<TrafficGenerator>(new TrafficGenerator(
      std::move(client_socket->first), std::move(server_socket->first), server_socket->second));
}

TrafficGenerator::~TrafficGenerator() = default;

absl::StatusOr<TrialResult> TrafficGenerator::Run(const TrialConfig& config) {
  if (config.payload_bytes < kProbeHeaderSize || config.payload_bytes > kRecvBufferSize) {
    return absl::InvalidArgumentError(absl::StrCat("payload_bytes ", config.payload_bytes,
                                                   ": must be in [", kProbeHeaderSize, ", ",
                                                   kRecvBufferSize, "]"));
  }
  if (!(config.rate_pps >= 0) || !std::isfinite(config.rate_pps)) {
    return absl::InvalidArgumentError("rate_pps: must be a finite number >= 0");
  }
  if (config.duration.count() <= 0) return absl::InvalidArgumentError("duration: must be > 0");
  if (config.drain.count() < 0) return absl::InvalidArgumentError("drain: must be >= 0");
  if (config.realtime_priority < 0 || config.realtime_priority > 99) {
    return absl::InvalidArgumentError("realtime_priority: must be in [0, 99]");
  }
  if (config.batch < 0 || config.batch > 1024) {
    return absl::InvalidArgumentError("batch: must be in [0, 1024]");
  }
  const double seconds = std::chrono::duration<double>(config.duration).count();
  std::uint64_t total = std::numeric_limits<std::uint32_t>::max();
  if (config.rate_pps > 0) {
    const double wanted = std::llround(config.rate_pps * seconds);
    if (wanted >= static_cast<double>(total)) {
      return absl::InvalidArgumentError("rate_pps * duration: too many packets for one trial");
    }
    total = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(wanted));
  }
  const int batch = config.batch > 0 ? config.batch : AutoBatch(config.rate_pps);
  const std::uint16_t trial = next_trial_++;
  if (next_trial_ == 0) next_trial_ = 1;

  DrainSocket(client_.get());
  DrainSocket(server_.get());
  const bool echo = config.mode == TrialMode::kEcho;
  Receiver receiver;
  receiver.fd = echo ? client_.get() : server_.get();
  receiver.trial = trial;
  receiver.busy_poll = config.busy_poll;
  receiver.realtime_priority = config.realtime_priority;
  receiver.tracker = SequenceTracker(static_cast<std::uint32_t>(
      std::min<std::uint64_t>(total, std::numeric_limits<std::uint32_t>::max())));
  receiver.samples.reserve(
      std::min<std::uint64_t>(config.rate_pps > 0 ? total : 1 << 20, kMaxSamples));
  Reflector reflector;
  reflector.fd = server_.get();
  reflector.busy_poll = false;  // the client's receiver and sender need the cores more
  reflector.realtime_priority = config.realtime_priority;

  std::thread receive_thread([&receiver] { receiver.Loop(); });
  std::thread reflect_thread;
  if (echo) reflect_thread = std::thread([&reflector] { reflector.Loop(); });
  SendOutcome sent;
  std::thread send_thread([&] { sent = Send(client_.get(), config, trial, total, batch); });
  send_thread.join();

  const std::uint64_t drain_deadline =
      MonotonicNs() + static_cast<std::uint64_t>(config.drain.count());
  while (receiver.unique.load(std::memory_order_acquire) < sent.sent &&
         MonotonicNs() < drain_deadline && !sent.cancelled) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  receiver.stop = true;
  reflector.stop = true;
  receive_thread.join();
  if (reflect_thread.joinable()) reflect_thread.join();

  if (sent.cancelled) return absl::CancelledError("trial cancelled");
  if (!sent.error.ok()) return sent.error;
  if (!receiver.error.ok()) return receiver.error;
  if (!reflector.error.ok()) return reflector.error;

  TrialResult out;
  out.mode = config.mode;
  out.payload_bytes = config.payload_bytes;
  out.offered_pps = config.rate_pps;
  out.sent = sent.sent;
  out.send_seconds = sent.seconds;
  out.sent_pps = sent.seconds > 0 ? static_cast<double>(sent.sent) / sent.seconds : 0;
  out.send_retries = sent.retries;
  out.received = receiver.tracker.unique();
  out.lost = receiver.tracker.Lost(sent.sent);
  out.duplicates = receiver.tracker.duplicates();
  out.reordered = receiver.tracker.reordered();
  out.stray = receiver.stray + receiver.tracker.out_of_range();
  out.latency = SummarizeLatency(receiver.samples);
  return out;
}

absl::StatusOr<std::chrono::nanoseconds> TrafficGenerator::WarmUp(
    std::chrono::milliseconds timeout) {
  const std::uint64_t start = MonotonicNs();
  const std::uint64_t deadline =
      start + static_cast<std::uint64_t>(std::chrono::nanoseconds(timeout).count());
  TrialConfig config;
  config.mode = TrialMode::kEcho;
  config.payload_bytes = kProbeHeaderSize;
  config.rate_pps = 1000;
  config.duration = std::chrono::milliseconds(5);
  config.drain = std::chrono::milliseconds(20);
  while (true) {
    absl::StatusOr<TrialResult> r = Run(config);
    if (!r.ok()) return r.status();
    if (r->received == r->sent) return std::chrono::nanoseconds(MonotonicNs() - start);
    if (MonotonicNs() >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("path not passing traffic after ", timeout.count(),
                       " ms (last try: ", r->received, " of ", r->sent, " probes came back)"));
    }
  }
}

}  // namespace nsmcert::bench
