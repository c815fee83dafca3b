#include "reference/nsc/liveness.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::nsc {
namespace {

constexpr size_t kNonceSize = 8;

std::string StripPrefixLength(const std::string& cidr) {
  const size_t slash = cidr.find('/');
  return slash == std::string::npos ? cidr : cidr.substr(0, slash);
}

// -1 when not an address, else AF_INET or AF_INET6.
int FamilyOf(const std::string& address) {
  in6_addr buffer;
  if (inet_pton(AF_INET, address.c_str(), &buffer) == 1) return AF_INET;
  if (inet_pton(AF_INET6, address.c_str(), &buffer) == 1) return AF_INET6;
  return -1;
}

uint16_t InternetChecksum(const uint8_t* data, size_t size) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < size; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (size % 2 == 1) sum += static_cast<uint32_t>(data[size - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string PairText(const LivenessPair& pair) { return absl::StrCat(pair.src, " -> ", pair.dst); }

struct Pinger {
  const LivenessPair& pair;
  bool v6 = false;
  bool raw = true;
  uint16_t id = 0;
  std::array<uint8_t, kNonceSize> nonce{};
  sockaddr_storage dst{};
  socklen_t dst_len = 0;

  // Parses the addresses into socket addresses; `src` for bind().
  absl::Status Addresses(sockaddr_storage& src, socklen_t& src_len) {
    if (v6) {
      auto* s = reinterpret_cast<sockaddr_in6*>(&src);
      auto* d = reinterpret_cast<sockaddr_in6*>(&dst);
      s->sin6_family = d->sin6_family = AF_INET6;
      if (inet_pton(AF_INET6, pair.src.c_str(), &s->sin6_addr) != 1 ||
          inet_pton(AF_INET6, pair.dst.c_str(), &d->sin6_addr) != 1) {
        return absl::InvalidArgumentError(absl::StrCat("liveness ", PairText(pair), ": not IPv6"));
      }
      src_len = dst_len = sizeof(sockaddr_in6);
    } else {
      auto* s = reinterpret_cast<sockaddr_in*>(&src);
      auto* d = reinterpret_cast<sockaddr_in*>(&dst);
      s->sin_family = d->sin_family = AF_INET;
      if (inet_pton(AF_INET, pair.src.c_str(), &s->sin_addr) != 1 ||
          inet_pton(AF_INET, pair.dst.c_str(), &d->sin_addr) != 1) {
        return absl::InvalidArgumentError(absl::StrCat("liveness ", PairText(pair), ": not IPv4"));
      }
      src_len = dst_len = sizeof(sockaddr_in);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<int> Open() {
    const int family = v6 ? AF_INET6 : AF_INET;
    const int protocol = v6 ? static_cast<int>(IPPROTO_ICMPV6) : static_cast<int>(IPPROTO_ICMP);
    int fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0 && (errno == EPERM || errno == EACCES)) {
      // Without CAP_NET_RAW: an unprivileged ping socket (net.ipv4.ping_group_range).
      raw = false;
      fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, protocol);
    }
    if (fd < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "liveness ", PairText(pair), ": cannot open an ICMP socket: ", std::strerror(errno)));
    }
    return fd;
  }

  std::vector<uint8_t> EchoRequest(uint16_t sequence) const {
    std::vector<uint8_t> packet(8 + kNonceSize, 0);
    packet[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
    packet[4] = static_cast<uint8_t>(id >> 8);
    packet[5] = static_cast<uint8_t>(id & 0xff);
    packet[6] = static_cast<uint8_t>(sequence >> 8);
    packet[7] = static_cast<uint8_t>(sequence & 0xff);
    std::memcpy(packet.data() + 8, nonce.data(), kNonceSize);
    // ICMPv6 checksums cover a pseudo-header; the kernel fills them in for ICMPv6 sockets (and for
    // ping sockets of either family).
    if (!v6) {
      const uint16_t checksum = InternetChecksum(packet.data(), packet.size());
      std::memcpy(packet.data() + 2, &checksum, sizeof(checksum));
    }
    return packet;
  }

  // True if `data` (as received from `from`) is a reply to one of our requests.
  bool IsOurReply(const uint8_t* data, size_t size, const sockaddr_storage& from) const {
    if (raw && !v6) {
      // Raw IPv4 sockets deliver the IP header too.
      if (size < sizeof(iphdr)) return false;
      const size_t header = static_cast<size_t>(data[0] & 0x0f) * 4;
      if (size < header) return false;
      data += header;
      size -= header;
    }
    if (size < 8 + kNonceSize) return false;
    if (data[0] != (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY)) return false;
    // A ping socket rewrites the identifier and only hands us our own replies.
    if (raw && (static_cast<uint16_t>(data[4] << 8 | data[5]) != id)) return false;
    if (std::memcmp(data + 8, nonce.data(), kNonceSize) != 0) return false;
    if (v6) {
      const auto& f = reinterpret_cast<const sockaddr_in6&>(from);
      const auto& d = reinterpret_cast<const sockaddr_in6&>(dst);
      return std::memcmp(&f.sin6_addr, &d.sin6_addr, sizeof(in6_addr)) == 0;
    }
    const auto& f = reinterpret_cast<const sockaddr_in&>(from);
    const auto& d = reinterpret_cast<const sockaddr_in&>(dst);
    return f.sin_addr.s_addr == d.sin_addr.s_addr;
  }
};

}  // namespace

std::vector<LivenessPair> LivenessPairs(const connection::Connection& conn) {
  std::vector<LivenessPair> pairs;
  if (!conn.has_mechanism() || conn.mechanism().type() != api::mechanism::kKernel) return pairs;
  const auto& ip = conn.context().ip_context();
  for (const std::string& src_cidr : ip.src_ip_addrs()) {
    const std::string src = StripPrefixLength(src_cidr);
    const int src_family = FamilyOf(src);
    if (src_family < 0) continue;
    for (const std::string& dst_cidr : ip.dst_ip_addrs()) {
      const std::string dst = StripPrefixLength(dst_cidr);
      if (FamilyOf(dst) != src_family) continue;
      LivenessPair pair;
      pair.src = src;
      pair.dst = dst;
      pair.ipv6 = src_family == AF_INET6;
      pairs.push_back(std::move(pair));
    }
  }
  return pairs;
}

absl::StatusOr<bool> Ping(const LivenessPair& pair, const LivenessOptions& options) {
  Pinger pinger{pair};
  pinger.v6 = pair.ipv6;
  std::random_device random;
  pinger.id = static_cast<uint16_t>(random());
  for (auto& byte : pinger.nonce) byte = static_cast<uint8_t>(random());
  sockaddr_storage src{};
  socklen_t src_len = 0;
  if (absl::Status s = pinger.Addresses(src, src_len); !s.ok()) return s;
  absl::StatusOr<int> opened = pinger.Open();
  if (!opened.ok()) return opened.status();
  Fd fd(*opened);
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&src), src_len) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "liveness ", PairText(pair), ": cannot bind the source address: ", std::strerror(errno)));
  }

  using SteadyClock = std::chrono::steady_clock;
  const int packets = options.packets > 0 ? options.packets : 1;
  const auto timeout = absl::ToChronoNanoseconds(options.timeout);
  const auto start = SteadyClock::now();
  const auto end = start + timeout;
  std::array<uint8_t, 1500> buffer{};
  for (int i = 0; i < packets; ++i) {
    const std::vector<uint8_t> request = pinger.EchoRequest(static_cast<uint16_t>(i));
    if (sendto(fd.get(), request.data(), request.size(), 0,
               reinterpret_cast<const sockaddr*>(&pinger.dst), pinger.dst_len) < 0) {
      // No route, a device that went down, a full queue: the data path does not carry it.
      return false;
    }
    const auto next_send = i + 1 < packets ? start + timeout * (i + 1) / packets : end;
    for (auto now = SteadyClock::now(); now < next_send; now = SteadyClock::now()) {
      const auto wait =
          std::chrono::duration_cast<std::chrono::milliseconds>(next_send - now).count() + 1;
      pollfd p{fd.get(), POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(wait));
      if (ready < 0 && errno != EINTR) {
        return absl::UnavailableError(
            absl::StrCat("liveness ", PairText(pair), ": poll failed: ", std::strerror(errno)));
      }
      if (ready <= 0) continue;
      sockaddr_storage from{};
      socklen_t from_len = sizeof(from);
      const ssize_t n = recvfrom(fd.get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                 reinterpret_cast<sockaddr*>(&from), &from_len);
      if (n < 0 && (errno == EHOSTUNREACH || errno == ENETUNREACH)) return false;
      if (n <= 0) continue;  // another queued error, or a spurious wake-up
      if (pinger.IsOurReply(buffer.data(), static_cast<size_t>(n), from)) return true;
    }
  }
  return false;
}

bool CheckLiveness(const connection::Connection& conn, const LivenessOptions& options) {
  const std::vector<LivenessPair> pairs = LivenessPairs(conn);
  if (pairs.empty()) return true;
  std::atomic<bool> alive{true};
  std::vector<std::thread> threads;
  threads.reserve(pairs.size());
  for (const LivenessPair& pair : pairs) {
    threads.emplace_back([&alive, &pair, &options] {
      absl::StatusOr<bool> answered = Ping(pair, options);
      if (!answered.ok() || !*answered) alive = false;
    });
  }
  for (std::thread& t : threads) t.join();
  return alive;
}

}  // namespace nsmcert::nsc
