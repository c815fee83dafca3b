#include "bench/datapath/iperf.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "bench/datapath/process.h"
#include "bench/datapath/unique_fd.h"
#include "nlohmann/json.hpp"
#include "reference/kernel/ip.h"

namespace nsmcert::bench {
namespace {

using Json = nlohmann::json;

absl::StatusOr<double> NumberAt(const Json& doc, const char* section, const char* field) {
  const Json* end = doc.contains("end") ? &doc["end"] : nullptr;
  if (end == nullptr || !end->contains(section) || !(*end)[section].contains(field) ||
      !(*end)[section][field].is_number()) {
    return absl::InvalidArgumentError(
        absl::StrCat("iperf3 report: missing number end.", section, ".", field));
  }
  return (*end)[section][field].get<double>();
}

// A TCP port that is free on `ip` inside `ns` right now (bind to port 0, read it, close).
absl::StatusOr<std::uint16_t> FreeTcpPort(const Endpoint& ep) {
  absl::StatusOr<kernel::IpAddress> ip = kernel::IpAddress::Parse(ep.ip, "server ip");
  if (!ip.ok()) return ip.status();
  return kernel::RunInNetNs(*ep.ns, [&]() -> absl::StatusOr<std::uint16_t> {
    sockaddr_storage addr{};
    socklen_t len;
    if (ip->family == kernel::IpFamily::kV4) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&addr);
      sin->sin_family = AF_INET;
      std::memcpy(&sin->sin_addr, ip->bytes.data(), 4);
      len = sizeof(sockaddr_in);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&addr);
      sin6->sin6_family = AF_INET6;
      std::memcpy(&sin6->sin6_addr, ip->bytes.data(), 16);
      len = sizeof(sockaddr_in6);
    }
    UniqueFd fd(::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid() || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      return absl::InternalError(
          absl::StrCat("pick a free TCP port on ", ep.ip, ": ", std::strerror(errno)));
    }
    return ntohs(addr.ss_family == AF_INET ? reinterpret_cast<sockaddr_in*>(&addr)->sin_port
                                           : reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  });
}

// Whether the process `pid` sees a TCP socket listening on `port`: /proc/<pid>/net/tcp{,6} shows
// the sockets of that process's namespace, so no probe connection disturbs the one-off server.
bool Listening(pid_t pid, std::uint16_t port) {
  char wanted[8];
  std::snprintf(wanted, sizeof(wanted), "%04X", port);
  for (const char* table : {"tcp", "tcp6"}) {
    std::ifstream in(absl::StrCat("/proc/", pid, "/net/", table));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state;
      fields >> slot >> local >> remote >> state;
      size_t colon = local.rfind(':');
      if (colon != std::string::npos && local.substr(colon + 1) == wanted && state == "0A") {
        return true;
      }
    }
  }
  return false;
}

// Reads `fd` to EOF, giving up at `deadline`.
absl::StatusOr<std::string> ReadAll(int fd, std::chrono::steady_clock::time_point deadline) {
  std::string out;
  char buf[16384];
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return absl::DeadlineExceededError("iperf3 client: timed out");
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 1000)));
    if (r < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat("poll: ", std::strerror(errno)));
    }
    if (r <= 0) continue;
    ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::InternalError(absl::StrCat("read: ", std::strerror(errno)));
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace

absl::StatusOr<TcpBulkResult> ParseIperf3Json(std::string_view json) {
  Json doc = Json::parse(json.begin(), json.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("iperf3 report: not a JSON object");
  }
  if (doc.contains("error") && doc["error"].is_string()) {
    return absl::UnavailableError(absl::StrCat("iperf3: ", doc["error"].get<std::string>()));
  }
  TcpBulkResult out;
  absl::StatusOr<double> sent = NumberAt(doc, "sum_sent", "bits_per_second");
  if (!sent.ok()) return sent.status();
  absl::StatusOr<double> received = NumberAt(doc, "sum_received", "bits_per_second");
  if (!received.ok()) return received.status();
  absl::StatusOr<double> seconds = NumberAt(doc, "sum_received", "seconds");
  if (!seconds.ok()) return seconds.status();
  out.sent_bps = *sent;
  out.received_bps = *received;
  out.seconds = *seconds;
  if (absl::StatusOr<double> retransmits = NumberAt(doc, "sum_sent", "retransmits");
      retransmits.ok()) {
    out.retransmits = static_cast<std::int64_t>(*retransmits);
  }
  if (doc.contains("start") && doc["start"].contains("test_start") &&
      doc["start"]["test_start"].contains("num_streams") &&
      doc["start"]["test_start"]["num_streams"].is_number_integer()) {
    out.streams = doc["start"]["test_start"]["num_streams"].get<int>();
  }
  return out;
}

absl::StatusOr<TcpBulkResult> RunIperf3(const Endpoint& client, const Endpoint& server,
                                        const Iperf3Config& config) {
  if (config.seconds < 1) return absl::InvalidArgumentError("iperf3 seconds: must be >= 1");
  if (config.streams < 1) return absl::InvalidArgumentError("iperf3 streams: must be >= 1");
  if (client.ns == nullptr || server.ns == nullptr) {
    return absl::FailedPreconditionError("iperf3: endpoint without a namespace");
  }
  absl::StatusOr<std::uint16_t> port = FreeTcpPort(server);
  if (!port.ok()) return port.status();
  const std::string port_text = std::to_string(*port);

  absl::StatusOr<ChildProcess> iperf_server = ChildProcess::SpawnInNetNs(
      *server.ns, {config.program, "-s", "-1", "-B", server.ip, "-p", port_text}, -1, -1,
      config.realtime_priority);
  if (!iperf_server.ok()) return iperf_server.status();
  const auto listen_deadline = std::chrono::steady_clock::now() + config.start_timeout;
  while (!Listening(iperf_server->pid(), *port)) {
    if (!iperf_server->Running()) {
      absl::StatusOr<int> status = iperf_server->Wait(std::chrono::milliseconds(0));
      return absl::InternalError(absl::StrCat("iperf3 server on ", server.ip, ":", *port, " ",
                                              status.ok() ? DescribeWaitStatus(*status) : "stopped",
                                              " before listening"));
    }
    if (std::chrono::steady_clock::now() >= listen_deadline) {
      return absl::DeadlineExceededError(absl::StrCat("iperf3 server on ", server.ip, ":", *port,
                                                      ": not listening after ",
                                                      config.start_timeout.count(), " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }

  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  UniqueFd out_read(out_pipe[0]);
  UniqueFd out_write(out_pipe[1]);
  absl::StatusOr<ChildProcess> iperf_client = ChildProcess::SpawnInNetNs(
      *client.ns,
      {config.program, "-c", server.ip, "-p", port_text, "-B", client.ip, "-t",
       std::to_string(config.seconds), "-P", std::to_string(config.streams), "-J",
       "--connect-timeout", "3000"},
      out_write.get(), -1, config.realtime_priority);
  if (!iperf_client.ok()) return iperf_client.status();
  out_write.Reset();  // EOF arrives when the client exits

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(config.seconds) +
                        std::chrono::seconds(20);
  absl::StatusOr<std::string> report = ReadAll(out_read.get(), deadline);
  if (!report.ok()) return report.status();
  absl::StatusOr<int> status = iperf_client->Wait(std::chrono::seconds(5));
  if (!status.ok()) return status.status();
  absl::StatusOr<TcpBulkResult> parsed = ParseIperf3Json(*report);
  if (!parsed.ok()) return parsed.status();
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
    return absl::InternalError(absl::StrCat("iperf3 client ", DescribeWaitStatus(*status)));
  }
  // The one-off server exits by itself after the test; the ChildProcess destructor reaps (or
  // kills) it.
  iperf_server->Wait(std::chrono::seconds(2)).IgnoreError();
  return parsed;
}

}  // namespace nsmcert::bench
