#include "conformance/cases/connectivity/nsm_client.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/time/clock.h"
#include "conformance/cases/text.h"
#include "conformance/harness/health.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::nsm_cases {

// ---------------------------------------------------------------------------------------------
// MonitorStream

MonitorStream::~MonitorStream() {
  Cancel();
  if (thread_.joinable()) thread_.join();
}

void MonitorStream::Run() {
  connection::ConnectionEvent event;
  while (reader_->Read(&event)) {
    transcript_.Add(rpc_, "event", &event);
    absl::MutexLock lock(&mu_);
    queue_.push_back(event);
    seen_.push_back(event);
  }
  grpc::Status status = reader_->Finish();
  transcript_.Add(rpc_, "status", nullptr, {}, &status);
  absl::MutexLock lock(&mu_);
  end_ = status;
}

std::optional<connection::ConnectionEvent> MonitorStream::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || end_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (queue_.empty()) return std::nullopt;
  connection::ConnectionEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

std::optional<connection::ConnectionEvent> MonitorStream::WaitFor(
    const std::function<bool(const connection::ConnectionEvent&)>& match, absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  while (true) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) return std::nullopt;
    std::optional<connection::ConnectionEvent> event = Next(left);
    if (!event.has_value()) {
      absl::MutexLock lock(&mu_);
      if (end_.has_value()) return std::nullopt;
      continue;
    }
    if (match(*event)) return event;
  }
}

std::vector<connection::ConnectionEvent> MonitorStream::Seen() const {
  absl::MutexLock lock(&mu_);
  return seen_;
}

std::optional<grpc::Status> MonitorStream::WaitEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return end_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  return end_;
}

void MonitorStream::Cancel() { context_.TryCancel(); }

// ---------------------------------------------------------------------------------------------
// NsmClient

absl::StatusOr<std::unique_ptr<NsmClient>> NsmClient::Connect(std::string_view url,
                                                              std::string_view label,
                                                              CaseContext& context,
                                                              Transcript& transcript) {
  absl::StatusOr<std::string> target = harness::GrpcTargetOf(url);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments arguments;
  // Reconnect quickly after a restart instead of backing off for seconds.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  // Oversized requests are part of the negative cases: let the server judge them.
  arguments.SetMaxSendMessageSize(-1);
  auto channel = grpc::CreateCustomChannel(*target, grpc::InsecureChannelCredentials(), arguments);
  return std::unique_ptr<NsmClient>(
      new NsmClient(std::string(url), std::string(label), context, transcript, std::move(channel)));
}

NsmClient::NsmClient(std::string url, std::string label, CaseContext& context,
                     Transcript& transcript, std::shared_ptr<grpc::Channel> channel)
    : url_(std::move(url)),
      label_(std::move(label)),
      context_(context),
      transcript_(transcript),
      channel_(std::move(channel)),
      network_service_(networkservice::NetworkService::NewStub(channel_)),
      monitor_(connection::MonitorConnection::NewStub(channel_)) {}

std::multimap<std::string, std::string> NsmClient::Prepare(grpc::ClientContext& call,
                                                           const NsmCallOptions& options,
                                                           bool stream) const {
  std::optional<registry_cases::CallerToken> token;
  if (options.send_token) {
    token = registry_cases::CallerToken{options.identity, options.token_lifetime, options.token,
                                        options.token_expires};
  }
  return registry_cases::PrepareCaseCall(
      call, context_.remaining(), stream ? std::nullopt : std::optional(options.deadline), token);
}

RequestResult NsmClient::Request(const networkservice::NetworkServiceRequest& request,
                                 const NsmCallOptions& options) {
  const std::string rpc = Cat(label_, " /networkservice.NetworkService/Request");
  grpc::ClientContext call;
  const auto sent = Prepare(call, options, /*stream=*/false);
  transcript_.Add(rpc, "request", &request, sent);
  RequestResult result;
  result.sent = absl::Now();
  result.status = network_service_->Request(&call, request, &result.reply);
  result.received = absl::Now();
  transcript_.Add(rpc, "reply", result.status.ok() ? &result.reply : nullptr, {}, &result.status);
  return result;
}

grpc::Status NsmClient::Close(const connection::Connection& connection,
                              const NsmCallOptions& options) {
  const std::string rpc = Cat(label_, " /networkservice.NetworkService/Close");
  grpc::ClientContext call;
  const auto sent = Prepare(call, options, /*stream=*/false);
  transcript_.Add(rpc, "request", &connection, sent);
  google::protobuf::Empty empty;
  grpc::Status status = network_service_->Close(&call, connection, &empty);
  transcript_.Add(rpc, "reply", nullptr, {}, &status);
  return status;
}

std::unique_ptr<MonitorStream> NsmClient::Monitor(const connection::MonitorScopeSelector& selector,
                                                  const NsmCallOptions& options) {
  const std::string rpc = Cat(label_, " /connection.MonitorConnection/MonitorConnections");
  std::unique_ptr<MonitorStream> stream(new MonitorStream(rpc, transcript_));
  const auto sent = Prepare(stream->context_, options, /*stream=*/true);
  transcript_.Add(rpc, "request", &selector, sent);
  stream->reader_ = monitor_->MonitorConnections(&stream->context_, selector);
  stream->thread_ = std::thread([s = stream.get()] { s->Run(); });
  return stream;
}

// ---------------------------------------------------------------------------------------------
// Requests

absl::StatusOr<std::string> NetnsInodeUrl(const std::string& netns_path) {
  struct stat st {};
  if (stat(netns_path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        Cat("network namespace ", netns_path, ": cannot stat: ", std::strerror(errno)));
  }
  return Cat("inode://", static_cast<std::uint64_t>(st.st_dev), "/",
             static_cast<std::uint64_t>(st.st_ino));
}

networkservice::NetworkServiceRequest MakeRequest(const RequestSpec& spec) {
  networkservice::NetworkServiceRequest request;
  connection::Connection& conn = *request.mutable_connection();
  conn.set_id(spec.connection_id);
  conn.set_network_service(spec.network_service);
  if (!spec.payload.empty()) conn.set_payload(spec.payload);
  for (const auto& [key, value] : spec.labels) (*conn.mutable_labels())[key] = value;
  conn.mutable_path()->set_index(0);
  connection::PathSegment& segment = *conn.mutable_path()->add_path_segments();
  segment.set_name(spec.client_name);
  segment.set_id(spec.connection_id);
  auto& ip_context = *conn.mutable_context()->mutable_ip_context();
  for (const std::string& prefix : spec.excluded_prefixes) ip_context.add_excluded_prefixes(prefix);
  if (spec.mtu != 0) conn.mutable_context()->set_mtu(spec.mtu);
  connection::Mechanism& mechanism = *request.add_mechanism_preferences();
  mechanism.set_cls(std::string(api::cls::kLocal));
  mechanism.set_type(spec.mechanism_type);
  auto& parameters = *mechanism.mutable_parameters();
  if (!spec.interface_name.empty())
    parameters[std::string(api::param::kName)] = spec.interface_name;
  if (!spec.netns_inode_url.empty()) {
    parameters[std::string(api::param::kInodeUrl)] = spec.netns_inode_url;
  }
  return request;
}

networkservice::NetworkServiceRequest MakeRefresh(const connection::Connection& returned,
                                                  const RequestSpec& spec) {
  networkservice::NetworkServiceRequest request = MakeRequest(spec);
  connection::Connection& conn = *request.mutable_connection();
  conn = returned;
  conn.mutable_path()->set_index(0);
  conn.set_id(spec.connection_id);
  return request;
}

// ---------------------------------------------------------------------------------------------
// Replies

std::vector<std::string> SegmentNames(const connection::Connection& connection) {
  std::vector<std::string> names;
  for (const auto& segment : connection.path().path_segments()) names.push_back(segment.name());
  return names;
}

std::string DescribeSegments(const connection::Connection& connection) {
  return Cat("[", Join(SegmentNames(connection), ", "), "]");
}

namespace {
std::string WithoutPrefixLength(const std::string& cidr) { return cidr.substr(0, cidr.find('/')); }
}  // namespace

std::string FirstSrcIp(const connection::Connection& connection) {
  const auto& ips = connection.context().ip_context().src_ip_addrs();
  return ips.empty() ? std::string() : WithoutPrefixLength(ips[0]);
}

std::string FirstDstIp(const connection::Connection& connection) {
  const auto& ips = connection.context().ip_context().dst_ip_addrs();
  return ips.empty() ? std::string() : WithoutPrefixLength(ips[0]);
}

std::string DescribeStatus(const grpc::Status& status) {
  return registry_cases::DescribeRpcStatus(status);
}

std::vector<connection::Connection> ConnectionsOfClient(const connection::ConnectionEvent& event,
                                                        std::string_view client_id) {
  std::vector<connection::Connection> found;
  for (const auto& [key, conn] : event.connections()) {
    if (conn.path().path_segments_size() > 0 && conn.path().path_segments(0).id() == client_id) {
      found.push_back(conn);
    }
  }
  return found;
}

std::string_view EventTypeName(connection::ConnectionEventType type) {
  switch (type) {
    case connection::INITIAL_STATE_TRANSFER:
      return "INITIAL_STATE_TRANSFER";
    case connection::UPDATE:
      return "UPDATE";
    case connection::DELETE:
      return "DELETE";
    default:
      return "UNKNOWN";
  }
}

}  // namespace nsmcert::conformance::nsm_cases
