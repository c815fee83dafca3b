#include "conformance/cases/registry/registry_client.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdint>
#include <fstream>

#include "absl/random/random.h"
#include "absl/time/clock.h"
#include "conformance/cases/check.h"
#include "conformance/cases/text.h"
#include "conformance/harness/health.h"
#include "google/protobuf/util/json_util.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::registry_cases {
namespace {

// The insecure profile does not verify caller tokens; any key makes a well-formed JWT.
constexpr std::string_view kTokenKey = "nsmcert-conformance-test-key";

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Base64UrlEncode(std::string_view data) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : data) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kBase64Url[(buffer >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kBase64Url[(buffer << (6 - bits)) & 0x3f]);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const char* at = std::find(kBase64Url, kBase64Url + 64, c);
    if (at == kBase64Url + 64) {
      // Standard base64 as well, for tolerance.
      if (c == '+') {
        at = kBase64Url + 62;
      } else if (c == '/') {
        at = kBase64Url + 63;
      } else {
        return std::nullopt;
      }
    }
    buffer = (buffer << 6) | static_cast<std::uint32_t>(at - kBase64Url);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "OK";
    case grpc::StatusCode::CANCELLED:
      return "CANCELLED";
    case grpc::StatusCode::UNKNOWN:
      return "UNKNOWN";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "INVALID_ARGUMENT";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "DEADLINE_EXCEEDED";
    case grpc::StatusCode::NOT_FOUND:
      return "NOT_FOUND";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "ALREADY_EXISTS";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "PERMISSION_DENIED";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "RESOURCE_EXHAUSTED";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "FAILED_PRECONDITION";
    case grpc::StatusCode::ABORTED:
      return "ABORTED";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "OUT_OF_RANGE";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "UNIMPLEMENTED";
    case grpc::StatusCode::INTERNAL:
      return "INTERNAL";
    case grpc::StatusCode::UNAVAILABLE:
      return "UNAVAILABLE";
    case grpc::StatusCode::DATA_LOSS:
      return "DATA_LOSS";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "UNAUTHENTICATED";
    default:
      return Cat("code ", static_cast<int>(code));
  }
}

nlohmann::json StatusJson(const grpc::Status& status) {
  return {{"code", StatusCodeName(status.error_code())}, {"message", status.error_message()}};
}

std::string ToString(const grpc::string_ref& ref) { return std::string(ref.data(), ref.size()); }

std::multimap<std::string, std::string> CopyMetadata(
    const std::multimap<grpc::string_ref, grpc::string_ref>& metadata) {
  std::multimap<std::string, std::string> out;
  for (const auto& [key, value] : metadata) out.emplace(ToString(key), ToString(value));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Tokens

std::string MakeCallerToken(std::string_view spiffe_id, absl::Time expires) {
  const nlohmann::json header = {{"alg", "HS256"}, {"typ", "JWT"}};
  const nlohmann::json claims = {{"sub", std::string(spiffe_id)},
                                 {"exp", absl::ToUnixSeconds(expires)}};
  const std::string signing_input =
      Cat(Base64UrlEncode(header.dump()), ".", Base64UrlEncode(claims.dump()));
  return Cat(signing_input, ".", Base64UrlEncode(HmacSha256(kTokenKey, signing_input)));
}

std::multimap<std::string, std::string> PrepareCaseCall(
    grpc::ClientContext& call, absl::Duration remaining, std::optional<absl::Duration> cap,
    const std::optional<CallerToken>& token, const std::map<std::string, std::string>& extra) {
  const absl::Time now = absl::Now();
  call.set_deadline(absl::ToChronoTime(now + (cap ? std::min(*cap, remaining) : remaining)));
  call.set_wait_for_ready(true);
  std::multimap<std::string, std::string> sent;
  if (token) {
    const absl::Time expires = now + token->lifetime;
    sent.emplace(std::string(api::metadata::kClientToken),
                 token->text.value_or(MakeCallerToken(token->identity, expires)));
    sent.emplace(std::string(api::metadata::kClientTokenExpires),
                 token->expires_text.value_or(FormatRfc3339Nano(expires)));
  }
  for (const auto& [key, value] : extra) sent.emplace(key, value);
  for (const auto& [key, value] : sent) call.AddMetadata(key, value);
  return sent;
}

absl::StatusOr<std::string> JwtSubject(std::string_view jwt) {
  const std::size_t first = jwt.find('.');
  const std::size_t second = first == std::string_view::npos ? first : jwt.find('.', first + 1);
  if (second == std::string_view::npos) {
    return absl::InvalidArgumentError("not a JWT (expected three dot-separated parts)");
  }
  const std::optional<std::string> payload =
      Base64UrlDecode(jwt.substr(first + 1, second - first - 1));
  if (!payload.has_value()) return absl::InvalidArgumentError("JWT payload is not base64url");
  const nlohmann::json claims = nlohmann::json::parse(*payload, nullptr, false);
  if (claims.is_discarded() || !claims.is_object()) {
    return absl::InvalidArgumentError("JWT payload is not a JSON object");
  }
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->is_string()) {
    return absl::InvalidArgumentError("JWT has no string \"sub\" claim");
  }
  return sub->get<std::string>();
}

std::string FormatRfc3339Nano(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", time, absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------------------------
// Transcript

nlohmann::json MessageJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return message.ShortDebugString();
  }
  nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  return json.is_discarded() ? nlohmann::json(text) : json;
}

std::string MessageText(const google::protobuf::Message& message) {
  return MessageJson(message).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Transcript::Transcript(CaseContext& context, std::string file_name)
    : context_(context), file_name_(std::move(file_name)) {}

void Transcript::Add(std::string_view rpc, std::string_view kind,
                     const google::protobuf::Message* message,
                     const std::multimap<std::string, std::string>& metadata,
                     const grpc::Status* status) {
  nlohmann::json entry = {
      {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone())},
      {"rpc", std::string(rpc)},
      {"kind", std::string(kind)}};
  if (message != nullptr) entry["message"] = MessageJson(*message);
  if (!metadata.empty()) {
    nlohmann::json headers = nlohmann::json::object();
    for (const auto& [key, value] : metadata) headers[key].push_back(value);
    entry["metadata"] = std::move(headers);
  }
  if (status != nullptr) entry["status"] = StatusJson(*status);
  absl::MutexLock lock(&mu_);
  entry["seq"] = entries_.size() + 1;
  entries_.push_back(std::move(entry));
  Flush();
}

void Transcript::Note(std::string_view text) {
  context_.log().Write(text);
  absl::MutexLock lock(&mu_);
  entries_.push_back(
      {{"seq", entries_.size() + 1},
       {"time", absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone())},
       {"kind", "note"},
       {"note", std::string(text)}});
  Flush();
}

void Transcript::Flush() {
  if (unavailable_) return;
  if (path_.empty()) {
    auto path = context_.evidence().NewFile(
        EvidenceKind::kData, file_name_,
        "the registry messages the case exchanged (requests, replies, headers, stream events)");
    if (!path.ok()) {
      context_.log().Write(
          Cat("cannot keep the transcript: ", std::string(path.status().message())));
      unavailable_ = true;
      return;
    }
    path_ = path->string();
  }
  std::ofstream out(path_, std::ios::trunc);
  out << entries_.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// ---------------------------------------------------------------------------------------------
// Watch

template <class Response>
Watch<Response>::~Watch() {
  context_.TryCancel();
  if (thread_.joinable()) thread_.join();
}

template <class Response>
void Watch<Response>::Run() {
  Response response;
  while (reader_->Read(&response)) {
    transcript_.Add(rpc_, "event", &response);
    absl::MutexLock lock(&mu_);
    queue_.push_back(response);
  }
  grpc::Status status = reader_->Finish();
  transcript_.Add(rpc_, "status", nullptr, {}, &status);
  absl::MutexLock lock(&mu_);
  end_ = status;
}

template <class Response>
std::optional<Response> Watch<Response>::Next(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || end_.has_value();
  };
  mu_.AwaitWithTimeout(absl::Condition(&ready), timeout);
  if (queue_.empty()) return std::nullopt;
  Response response = std::move(queue_.front());
  queue_.pop_front();
  return response;
}

template <class Response>
std::vector<Response> Watch<Response>::Drain(absl::Duration window) {
  const absl::Time until = absl::Now() + window;
  std::vector<Response> out;
  while (true) {
    const absl::Duration left = until - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    std::optional<Response> next = Next(left);
    if (next.has_value()) {
      out.push_back(*std::move(next));
    } else if (ended()) {
      break;
    }
  }
  absl::MutexLock lock(&mu_);
  while (!queue_.empty()) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return out;
}

template <class Response>
std::optional<grpc::Status> Watch<Response>::WaitEnd(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const auto ended = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return end_.has_value(); };
  mu_.AwaitWithTimeout(absl::Condition(&ended), timeout);
  return end_;
}

template <class Response>
bool Watch<Response>::ended() const {
  absl::MutexLock lock(&mu_);
  return end_.has_value();
}

template <class Response>
void Watch<Response>::Cancel() {
  context_.TryCancel();
}

template class Watch<registry::NetworkServiceEndpointResponse>;
template class Watch<registry::NetworkServiceResponse>;

// ---------------------------------------------------------------------------------------------
// RegistryClient

absl::StatusOr<std::unique_ptr<RegistryClient>> RegistryClient::Connect(std::string_view url,
                                                                        CaseContext& context,
                                                                        Transcript& transcript) {
  absl::StatusOr<std::string> target = harness::GrpcTargetOf(url);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments arguments;
  // Reconnect quickly after a restart of the registry instead of backing off for seconds.
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto channel = grpc::CreateCustomChannel(*target, grpc::InsecureChannelCredentials(), arguments);
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(std::string(url), context, transcript, std::move(channel)));
}

RegistryClient::RegistryClient(std::string url, CaseContext& context, Transcript& transcript,
                               std::shared_ptr<grpc::Channel> channel)
    : url_(std::move(url)),
      context_(context),
      transcript_(transcript),
      channel_(std::move(channel)),
      nse_(registry::NetworkServiceEndpointRegistry::NewStub(channel_)),
      ns_(registry::NetworkServiceRegistry::NewStub(channel_)) {}

std::multimap<std::string, std::string> RegistryClient::Prepare(grpc::ClientContext& call,
                                                                const CallOptions& options,
                                                                bool watch) const {
  std::optional<CallerToken> token;
  if (options.send_token) token = CallerToken{options.identity, options.token_lifetime, {}, {}};
  return PrepareCaseCall(call, context_.remaining(),
                         watch ? std::nullopt : std::optional(options.deadline), token,
                         options.extra_metadata);
}

template <class Request, class Reply, class Method>
UnaryResult<Reply> RegistryClient::Unary(std::string_view rpc, Method method,
                                         const Request& request, const CallOptions& options) {
  grpc::ClientContext call;
  const auto sent = Prepare(call, options, /*watch=*/false);
  transcript_.Add(rpc, "request", &request, sent);
  UnaryResult<Reply> result;
  result.sent = absl::Now();
  result.status = method(&call, request, &result.reply);
  result.received = absl::Now();
  result.headers = CopyMetadata(call.GetServerInitialMetadata());
  transcript_.Add(rpc, "reply", result.status.ok() ? &result.reply : nullptr, result.headers,
                  &result.status);
  return result;
}

template <class Response, class Query, class Method>
FindResult<Response> RegistryClient::FindAll(std::string_view rpc, Method method,
                                             const Query& query, const CallOptions& options) {
  grpc::ClientContext call;
  const auto sent = Prepare(call, options, /*watch=*/false);
  transcript_.Add(rpc, "request", &query, sent);
  FindResult<Response> result;
  auto reader = method(&call, query);
  Response response;
  while (reader->Read(&response)) {
    transcript_.Add(rpc, "event", &response);
    result.responses.push_back(response);
  }
  result.status = reader->Finish();
  transcript_.Add(rpc, "status", nullptr, {}, &result.status);
  return result;
}

template <class Response, class Query, class Method>
std::unique_ptr<Watch<Response>> RegistryClient::OpenWatch(std::string_view rpc, Method method,
                                                           const Query& query,
                                                           const CallOptions& options) {
  std::unique_ptr<Watch<Response>> watch(new Watch<Response>(std::string(rpc), transcript_));
  const auto sent = Prepare(watch->context_, options, /*watch=*/true);
  transcript_.Add(rpc, "request", &query, sent);
  watch->reader_ = method(&watch->context_, query);
  watch->thread_ = std::thread([w = watch.get()] { w->Run(); });
  return watch;
}

UnaryResult<registry::NetworkServiceEndpoint> RegistryClient::RegisterNse(
    const registry::NetworkServiceEndpoint& nse, const CallOptions& options) {
  return Unary<registry::NetworkServiceEndpoint, registry::NetworkServiceEndpoint>(
      "/registry.NetworkServiceEndpointRegistry/Register",
      [this](grpc::ClientContext* c, const registry::NetworkServiceEndpoint& r,
             registry::NetworkServiceEndpoint* out) { return nse_->Register(c, r, out); },
      nse, options);
}

UnaryResult<google::protobuf::Empty> RegistryClient::UnregisterNse(
    const registry::NetworkServiceEndpoint& nse, const CallOptions& options) {
  return Unary<registry::NetworkServiceEndpoint, google::protobuf::Empty>(
      "/registry.NetworkServiceEndpointRegistry/Unregister",
      [this](grpc::ClientContext* c, const registry::NetworkServiceEndpoint& r,
             google::protobuf::Empty* out) { return nse_->Unregister(c, r, out); },
      nse, options);
}

FindResult<registry::NetworkServiceEndpointResponse> RegistryClient::FindNse(
    const registry::NetworkServiceEndpoint& query, const CallOptions& options) {
  registry::NetworkServiceEndpointQuery request;
  *request.mutable_network_service_endpoint() = query;
  return FindAll<registry::NetworkServiceEndpointResponse>(
      "/registry.NetworkServiceEndpointRegistry/Find",
      [this](grpc::ClientContext* c, const registry::NetworkServiceEndpointQuery& q) {
        return nse_->Find(c, q);
      },
      request, options);
}

std::unique_ptr<NseWatch> RegistryClient::WatchNse(const registry::NetworkServiceEndpoint& query,
                                                   const CallOptions& options) {
  registry::NetworkServiceEndpointQuery request;
  *request.mutable_network_service_endpoint() = query;
  request.set_watch(true);
  return OpenWatch<registry::NetworkServiceEndpointResponse>(
      "/registry.NetworkServiceEndpointRegistry/Find",
      [this](grpc::ClientContext* c, const registry::NetworkServiceEndpointQuery& q) {
        return nse_->Find(c, q);
      },
      request, options);
}

UnaryResult<registry::NetworkService> RegistryClient::RegisterNs(const registry::NetworkService& ns,
                                                                 const CallOptions& options) {
  return Unary<registry::NetworkService, registry::NetworkService>(
      "/registry.NetworkServiceRegistry/Register",
      [this](grpc::ClientContext* c, const registry::NetworkService& r,
             registry::NetworkService* out) { return ns_->Register(c, r, out); },
      ns, options);
}

UnaryResult<google::protobuf::Empty> RegistryClient::UnregisterNs(
    const registry::NetworkService& ns, const CallOptions& options) {
  return Unary<registry::NetworkService, google::protobuf::Empty>(
      "/registry.NetworkServiceRegistry/Unregister",
      [this](grpc::ClientContext* c, const registry::NetworkService& r,
             google::protobuf::Empty* out) { return ns_->Unregister(c, r, out); },
      ns, options);
}

FindResult<registry::NetworkServiceResponse> RegistryClient::FindNs(
    const registry::NetworkService& query, const CallOptions& options) {
  registry::NetworkServiceQuery request;
  *request.mutable_network_service() = query;
  return FindAll<registry::NetworkServiceResponse>(
      "/registry.NetworkServiceRegistry/Find",
      [this](grpc::ClientContext* c, const registry::NetworkServiceQuery& q) {
        return ns_->Find(c, q);
      },
      request, options);
}

std::unique_ptr<NsWatch> RegistryClient::WatchNs(const registry::NetworkService& query,
                                                 const CallOptions& options) {
  registry::NetworkServiceQuery request;
  *request.mutable_network_service() = query;
  request.set_watch(true);
  return OpenWatch<registry::NetworkServiceResponse>(
      "/registry.NetworkServiceRegistry/Find",
      [this](grpc::ClientContext* c, const registry::NetworkServiceQuery& q) {
        return ns_->Find(c, q);
      },
      request, options);
}

// ---------------------------------------------------------------------------------------------
// Helpers

std::string DescribeRpcStatus(const grpc::Status& status) {
  if (status.ok()) return "OK";
  return Cat(StatusCodeName(status.error_code()), ": \"", status.error_message(), "\"");
}

absl::Status ExpectRpcOk(std::string_view what, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return CaseFailure(Cat(what, ": expected OK, observed ", DescribeRpcStatus(status)));
}

absl::Time ToTime(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time time) {
  google::protobuf::Timestamp timestamp;
  const int64_t nanos = absl::ToUnixNanos(time);
  timestamp.set_seconds(nanos / 1'000'000'000);
  timestamp.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return timestamp;
}

std::string DescribeTimestamp(bool set, const google::protobuf::Timestamp& timestamp) {
  if (!set) return "(unset)";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", ToTime(timestamp), absl::UTCTimeZone());
}

std::vector<std::string> NamesOf(
    const std::vector<registry::NetworkServiceEndpointResponse>& responses) {
  std::vector<std::string> names;
  for (const auto& response : responses) {
    names.push_back(Cat(response.deleted() ? "-" : "", response.network_service_endpoint().name()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> NamesOf(const std::vector<registry::NetworkServiceResponse>& responses) {
  std::vector<std::string> names;
  for (const auto& response : responses) {
    names.push_back(Cat(response.deleted() ? "-" : "", response.network_service().name()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> WithPrefix(const std::vector<std::string>& names,
                                    std::string_view prefix) {
  std::vector<std::string> out;
  for (const std::string& name : names) {
    const std::string_view bare = std::string_view(name).substr(name.starts_with("-") ? 1 : 0);
    if (bare.starts_with(prefix)) out.push_back(name);
  }
  return out;
}

std::string DescribeNames(const std::vector<std::string>& names) {
  return Cat("[", Join(names, ", "), "]");
}

std::string UniquePrefix(const CaseContext& context) {
  std::string prefix;
  for (char c : context.info().id) {
    if (c != '-') prefix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  absl::BitGen random;
  static constexpr char kHex[] = "0123456789abcdef";
  prefix.push_back('-');
  for (int i = 0; i < 6; ++i) prefix.push_back(kHex[absl::Uniform(random, 0, 16)]);
  return prefix;
}

}  // namespace nsmcert::conformance::registry_cases
