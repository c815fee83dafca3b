// /connection.MonitorConnection/MonitorConnections for Python: subscribe to a daemon's monitor
// stream (nsmgr, forwarder, NSE) and read its events as JSON text, which the nsmcert package turns
// into dicts with the proto field names (network_service, path_segments, ...).
//
// A reader thread pulls events from the gRPC stream into a queue, so next() can wait with a
// timeout. A tcp:// URL inside a node's namespace is dialled from a socket created in that
// namespace and handed to gRPC (a channel's own connections would start in the caller's
// namespace, where the address does not exist). Unix socket paths are reachable from any
// namespace.
#include <arpa/inet.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/credentials.h>
#include <netinet/in.h>
#include <poll.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "absl/time/clock.h"
#include "connection.grpc.pb.h"
#include "google/protobuf/util/json_util.h"
#include "python/src/bindings.h"
#include "python/src/status.h"
#include "reference/kernel/netns.h"

namespace nsmcert::python {
namespace {

struct TcpAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  int family = AF_INET;
};

// "tcp://host:port" or "tcp://[v6]:port" with an IP literal host.
absl::StatusOr<TcpAddress> ParseTcpUrl(const std::string& url) {
  std::string rest = url.substr(6);
  std::string host;
  std::string port;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      return absl::InvalidArgumentError(url + ": expected tcp://[address]:port");
    }
    host = rest.substr(1, close - 1);
    port = rest.substr(close + 2);
  } else {
    const size_t colon = rest.rfind(':');
    if (colon == std::string::npos) return absl::InvalidArgumentError(url + ": no port");
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
  }
  if (host == "localhost" || host.empty()) host = "127.0.0.1";
  int port_number = 0;
  try {
    port_number = std::stoi(port);
  } catch (...) {
    return absl::InvalidArgumentError(url + ": bad port \"" + port + "\"");
  }
  if (port_number <= 0 || port_number > 65535) {
    return absl::InvalidArgumentError(url + ": bad port \"" + port + "\"");
  }
  TcpAddress address;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (inet_pton(AF_INET, host.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(static_cast<uint16_t>(port_number));
    address.length = sizeof(sockaddr_in);
    address.family = AF_INET;
  } else if (inet_pton(AF_INET6, host.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<uint16_t>(port_number));
    address.length = sizeof(sockaddr_in6);
    address.family = AF_INET6;
  } else {
    return absl::InvalidArgumentError(url + ": the host must be an IP address or localhost");
  }
  return address;
}

// A connected TCP socket made inside `netns_path`.
absl::StatusOr<int> DialInNamespace(const std::string& url, const std::string& netns_path,
                                    absl::Duration timeout) {
  auto address = ParseTcpUrl(url);
  if (!address.ok()) return address.status();
  auto ns = kernel::NetNs::FromPath(netns_path);
  if (!ns.ok()) return ns.status();
  auto fd = kernel::RunInNetNs(*ns, [&]() -> absl::StatusOr<int> {
    const int s = socket(address->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (s < 0) return absl::InternalError(std::string("socket: ") + std::strerror(errno));
    return s;
  });
  if (!fd.ok()) return fd.status();
  if (connect(*fd, reinterpret_cast<const sockaddr*>(&address->storage), address->length) != 0) {
    if (errno != EINPROGRESS) {
      const std::string why = std::strerror(errno);
      close(*fd);
      return absl::UnavailableError(url + ": " + why);
    }
    pollfd waiting{*fd, POLLOUT, 0};
    const int ready = poll(&waiting, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    int error = ready > 0 ? 0 : ETIMEDOUT;
    socklen_t length = sizeof(error);
    if (ready > 0) getsockopt(*fd, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      close(*fd);
      return absl::UnavailableError(url + ": " + std::strerror(error));
    }
  }
  return *fd;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> OpenChannel(const std::string& url,
                                                           const std::string& netns_path,
                                                           absl::Duration timeout) {
  if (url.rfind("unix://", 0) == 0) {
    return grpc::CreateChannel(url, grpc::InsecureChannelCredentials());
  }
  if (url.rfind("tcp://", 0) != 0) {
    return absl::InvalidArgumentError(url + ": expected a unix:// or tcp:// URL");
  }
  if (netns_path.empty()) {
    return grpc::CreateChannel(url.substr(6), grpc::InsecureChannelCredentials());
  }
  auto fd = DialInNamespace(url, netns_path, timeout);
  if (!fd.ok()) return fd.status();
  return grpc::CreateInsecureChannelFromFd(url, *fd);
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(message, &out, options);
  return out;
}

class MonitorStream {
 public:
  static std::unique_ptr<MonitorStream> Open(const std::string& url, const py::object& netns,
                                             const std::string& selector_json, double timeout) {
    connection::MonitorScopeSelector selector;
    if (!selector_json.empty()) {
      auto parsed = google::protobuf::util::JsonStringToMessage(selector_json, &selector);
      if (!parsed.ok()) {
        throw StatusError(absl::InvalidArgumentError("selector: " + parsed.ToString()));
      }
    }
    const std::string netns_path = NetnsPathArg(netns);
    const absl::Duration connect_timeout = SecondsArg(timeout, "timeout");
    std::unique_ptr<MonitorStream> stream(new MonitorStream(url));
    {
      py::gil_scoped_release release;
      auto channel = ValueOrThrow(OpenChannel(url, netns_path, connect_timeout));
      if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + connect_timeout))) {
        throw StatusError(absl::UnavailableError(url + ": cannot connect"));
      }
      stream->stub_ = connection::MonitorConnection::NewStub(channel);
      stream->reader_ = stream->stub_->MonitorConnections(&stream->context_, selector);
      stream->thread_ = std::thread([raw = stream.get()] { raw->Loop(); });
    }
    return stream;
  }

  ~MonitorStream() { Close(); }

  // The next event as JSON, or nullopt after `timeout`. Raises when the stream has ended and
  // every event was read (UNAVAILABLE/CANCELLED... with gRPC's message).
  std::optional<std::string> Next(double timeout) {
    const absl::Duration wait = SecondsArg(timeout, "timeout");
    py::gil_scoped_release release;
    std::unique_lock lock(mu_);
    const auto ready = [this] { return !events_.empty() || ended_; };
    if (wait == absl::InfiniteDuration()) {
      changed_.wait(lock, ready);
    } else {
      changed_.wait_for(lock, absl::ToChronoNanoseconds(wait), ready);
    }
    if (!events_.empty()) {
      std::string event = std::move(events_.front());
      events_.pop_front();
      return event;
    }
    if (ended_) {
      throw StatusError(end_status_.ok()
                            ? absl::UnavailableError(url_ + ": the monitor stream ended")
                            : end_status_);
    }
    return std::nullopt;
  }

  void Close() {
    py::gil_scoped_release release;
    context_.TryCancel();
    if (thread_.joinable()) thread_.join();
  }

  bool ended() {
    std::lock_guard lock(mu_);
    return ended_ && events_.empty();
  }
  const std::string& url() const { return url_; }

 private:
  explicit MonitorStream(std::string url) : url_(std::move(url)) {}

  void Loop() {
    connection::ConnectionEvent event;
    while (reader_->Read(&event)) {
      std::string json = ToJson(event);
      std::lock_guard lock(mu_);
      events_.push_back(std::move(json));
      changed_.notify_all();
    }
    const grpc::Status status = reader_->Finish();
    std::lock_guard lock(mu_);
    ended_ = true;
    if (!status.ok()) {
      end_status_ = absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                                 url_ + ": " + status.error_message());
    }
    changed_.notify_all();
  }

  const std::string url_;
  grpc::ClientContext context_;
  std::unique_ptr<connection::MonitorConnection::Stub> stub_;
  std::unique_ptr<grpc::ClientReader<connection::ConnectionEvent>> reader_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable changed_;
  std::deque<std::string> events_;
  bool ended_ = false;
  absl::Status end_status_;
};

}  // namespace

void BindMonitor(py::module_& m) {
  py::class_<MonitorStream>(m, "MonitorStream",
                            "A MonitorConnections subscription; events come as JSON text.")
      .def_static("open", &MonitorStream::Open, py::arg("url"), py::arg("netns") = py::none(),
                  py::arg("selector_json") = "", py::arg("timeout") = 5.0,
                  "Subscribes with a MonitorScopeSelector given as JSON (proto field names).")
      .def("next", &MonitorStream::Next, py::arg("timeout") = 5.0,
           "The next ConnectionEvent as JSON, or None after `timeout` seconds.")
      .def("close", &MonitorStream::Close, "Cancels the stream.")
      .def_property_readonly("ended", &MonitorStream::ended)
      .def_property_readonly("url", &MonitorStream::url);
}

}  // namespace nsmcert::python
