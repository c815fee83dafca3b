#include "conformance/harness/health.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

#include "absl/time/clock.h"
#include "conformance/harness/str_util.h"
#include "grpc_health.grpc.pb.h"
#include "reference/kernel/netns.h"

namespace nsmcert::harness {
namespace {

// A socket address to connect to, parsed from a URL.
struct Endpoint {
  sockaddr_storage address{};
  socklen_t length = 0;
  int family = AF_UNSPEC;
};

absl::Status BadUrl(std::string_view url, std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("health URL \"", url, "\": ", why));
}

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view url) {
  Endpoint endpoint;
  auto unix_endpoint = [&](std::string_view path, bool abstract) -> absl::StatusOr<Endpoint> {
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    const std::size_t offset = abstract ? 1 : 0;  // abstract names start with a NUL byte
    if (path.empty() || path.size() + offset >= sizeof(un.sun_path)) {
      return BadUrl(url, "unix socket path is empty or too long");
    }
    std::memcpy(un.sun_path + offset, path.data(), path.size());
    std::memcpy(&endpoint.address, &un, sizeof(un));
    endpoint.length =
        abstract ? static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + path.size())
                 : static_cast<socklen_t>(sizeof(un));
    endpoint.family = AF_UNIX;
    return endpoint;
  };
  if (url.starts_with("unix-abstract:")) {
    return unix_endpoint(url.substr(std::string_view("unix-abstract:").size()), true);
  }
  if (url.starts_with("unix:")) {
    std::string_view path = url.substr(5);
    if (path.starts_with("//")) path.remove_prefix(2);  // unix:///abs -> /abs
    return unix_endpoint(path, false);
  }
  std::string_view host_port = url;
  if (host_port.starts_with("tcp://")) host_port.remove_prefix(6);
  if (host_port.find("://") != std::string_view::npos) {
    return BadUrl(url, "unsupported scheme (want unix:// or tcp://)");
  }
  const std::size_t colon = host_port.rfind(':');
  if (colon == std::string_view::npos) return BadUrl(url, "missing :port");
  std::string host(host_port.substr(0, colon));
  const std::string_view port_text = host_port.substr(colon + 1);
  int port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port <= 0 || port > 65535) {
    return BadUrl(url, "bad port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  sockaddr_in in4{};
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET, host.c_str(), &in4.sin_addr) == 1) {
    in4.sin_family = AF_INET;
    in4.sin_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&endpoint.address, &in4, sizeof(in4));
    endpoint.length = sizeof(in4);
    endpoint.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&endpoint.address, &in6, sizeof(in6));
    endpoint.length = sizeof(in6);
    endpoint.family = AF_INET6;
  } else {
    return BadUrl(url, "host must be an IP address or localhost");
  }
  return endpoint;
}

// A socket of `family` created in `netns_path` (or the caller's namespace). Owned by the caller.
absl::StatusOr<int> OpenSocket(int family, const std::string& netns_path, std::string_view url) {
  auto open_socket = [family]() -> absl::StatusOr<int> {
    const int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return absl::InternalError(internal::Cat("socket: ", std::strerror(errno)));
    return fd;
  };
  if (netns_path.empty()) return open_socket();
  auto ns = kernel::NetNs::FromPath(netns_path);
  if (!ns.ok()) {
    return absl::NotFoundError(
        internal::Cat("health probe of ", url, ": namespace: ", ns.status().message()));
  }
  return kernel::RunInNetNs(*ns, open_socket);
}

// A connected, blocking socket to `url`, or UNAVAILABLE.
absl::StatusOr<int> Connect(const HealthTarget& target, absl::Time deadline) {
  auto endpoint = ParseEndpoint(target.url);
  if (!endpoint.ok()) return endpoint.status();
  auto fd = OpenSocket(endpoint->family, target.netns_path, target.url);
  if (!fd.ok()) return fd.status();
  auto fail = [&](std::string_view what, int error) {
    close(*fd);
    return absl::UnavailableError(
        internal::Cat("health probe of ", target.url, ": ", what, ": ", std::strerror(error)));
  };
  if (connect(*fd, reinterpret_cast<const sockaddr*>(&endpoint->address), endpoint->length) != 0) {
    // EAGAIN (a unix listener's backlog is full) is a failure to retry, not a pending connect.
    if (errno != EINPROGRESS) return fail("connect", errno);
    pollfd waiting{*fd, POLLOUT, 0};
    const auto remaining = absl::ToInt64Milliseconds(deadline - absl::Now());
    const int ready = poll(&waiting, 1, static_cast<int>(std::max<std::int64_t>(remaining, 0)));
    if (ready == 0) return fail("connect", ETIMEDOUT);
    if (ready < 0) return fail("poll", errno);
    int error = 0;
    socklen_t length = sizeof(error);
    getsockopt(*fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return fail("connect", error);
  }
  return *fd;
}

}  // namespace

std::string_view ServingStatusName(ServingStatus status) {
  switch (status) {
    case ServingStatus::kServing:
      return "SERVING";
    case ServingStatus::kNotServing:
      return "NOT_SERVING";
    case ServingStatus::kServiceUnknown:
      return "SERVICE_UNKNOWN";
    case ServingStatus::kUnknown:
      break;
  }
  return "UNKNOWN";
}

absl::StatusOr<std::string> GrpcTargetOf(std::string_view url) {
  if (url.starts_with("unix:") || url.starts_with("unix-abstract:")) return std::string(url);
  if (url.starts_with("tcp://")) return std::string(url.substr(6));
  if (url.find("://") != std::string_view::npos) {
    return BadUrl(url, "unsupported scheme (want unix:// or tcp://)");
  }
  return std::string(url);
}

absl::StatusOr<ServingStatus> CheckHealth(const HealthTarget& target, std::string_view service,
                                          absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  auto fd = Connect(target, deadline);
  if (!fd.ok()) return fd.status();
  // The channel takes the connected socket; it closes it when the channel goes away.
  std::shared_ptr<grpc::Channel> channel =
      grpc::CreateInsecureChannelFromFd(std::string(target.url), *fd);
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(std::string(service));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        internal::Cat("health check of ", target.url, " service \"", service,
                                      "\": ", status.error_message()));
  }
  switch (response.status()) {
    case grpc::health::v1::HealthCheckResponse::SERVING:
      return ServingStatus::kServing;
    case grpc::health::v1::HealthCheckResponse::NOT_SERVING:
      return ServingStatus::kNotServing;
    case grpc::health::v1::HealthCheckResponse::SERVICE_UNKNOWN:
      return ServingStatus::kServiceUnknown;
    default:
      return ServingStatus::kUnknown;
  }
}

absl::Status WaitHealthy(const HealthTarget& target, const std::vector<std::string>& services,
                         absl::Duration timeout, const std::function<absl::Status()>& keep_waiting,
                         absl::Duration interval) {
  const std::vector<std::string> checked =
      services.empty() ? std::vector<std::string>{""} : services;
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no attempt";
  while (true) {
    if (keep_waiting) {
      if (absl::Status go_on = keep_waiting(); !go_on.ok()) return go_on;
    }
    bool all_serving = true;
    for (const std::string& service : checked) {
      const absl::Duration left = std::max(deadline - absl::Now(), absl::Milliseconds(1));
      auto answer = CheckHealth(target, service, std::min(left, absl::Seconds(1)));
      if (!answer.ok()) {
        last = std::string(answer.status().message());
        all_serving = false;
        break;
      }
      if (*answer != ServingStatus::kServing) {
        last =
            internal::Cat(target.url, " service \"", service, "\" is ", ServingStatusName(*answer));
        all_serving = false;
        break;
      }
    }
    if (all_serving) return absl::OkStatus();
    if (absl::Now() + interval > deadline) {
      return absl::DeadlineExceededError(
          internal::Cat("not healthy within ", absl::FormatDuration(timeout), ": ", last));
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(interval));
  }
}

}  // namespace nsmcert::harness
