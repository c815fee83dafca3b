// What the registry cases use to talk to the registry under test: plain gRPC stubs of the NSM
// registry protos (spec §3.4), per-RPC tokens a caller would send (spec §2.3), and a transcript
// of every exchanged message filed as the case's evidence.
//
// Nothing here looks inside an implementation: the cases judge only replies, headers and streams.
//
// Threading: a RegistryClient may be used from one thread at a time; a Watch reads its stream on
// its own thread and its methods are thread-safe. Both record into the case's Transcript, which
// is thread-safe.
#ifndef NSMCERT_CONFORMANCE_CASES_REGISTRY_REGISTRY_CLIENT_H_
#define NSMCERT_CONFORMANCE_CASES_REGISTRY_REGISTRY_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "conformance/cases/case_context.h"
#include "registry.grpc.pb.h"

namespace nsmcert::conformance::registry_cases {

// ---------------------------------------------------------------------------------------------
// Tokens (spec §2.3, §2.6). The insecure profile reads caller tokens without verifying them, as
// the sdk sandbox does, so an HS256 JWT with a SPIFFE subject stands in for the caller's SVID.

// A JWT (HS256, fixed test key) with `sub` = `spiffe_id` and `exp` = `expires`.
std::string MakeCallerToken(std::string_view spiffe_id, absl::Time expires);
// The `sub` claim of a JWT, read without verifying it. INVALID_ARGUMENT when `jwt` is not a JWT
// with a string `sub`.
absl::StatusOr<std::string> JwtSubject(std::string_view jwt);
// Go's RFC 3339 with nanoseconds, as the -expires metadata carries it: 2030-01-02T03:04:05.5Z.
std::string FormatRfc3339Nano(absl::Time time);

// The per-RPC token a case's caller sends (spec §2.3): made for `identity`, valid for `lifetime`
// (negative: already expired), unless `text` / `expires_text` give the metadata verbatim.
struct CallerToken {
  std::string identity;
  absl::Duration lifetime;
  std::optional<std::string> text;
  std::optional<std::string> expires_text;
};
// Prepares a call of a case's client: the deadline is the case's remaining time, capped by `cap`
// when given (open-ended streams pass none); wait-for-ready; then the token's metadata (none
// without a token) and `extra`. Returns the metadata sent, for the transcript.
std::multimap<std::string, std::string> PrepareCaseCall(
    grpc::ClientContext& call, absl::Duration remaining, std::optional<absl::Duration> cap,
    const std::optional<CallerToken>& token, const std::map<std::string, std::string>& extra = {});

// The identity the registry cases call as.
inline constexpr std::string_view kCallerId = "spiffe://nsmcert.conformance/registry-client";

// ---------------------------------------------------------------------------------------------
// Evidence

// The messages a case exchanged, as JSON (<case dir>/<file>): an array of entries
// {"seq", "time", "rpc", "kind" (request, reply, event, status), "message", "metadata", "status"},
// rewritten after every entry so a case that dies still leaves what it saw. Thread-safe.
class Transcript {
 public:
  Transcript(CaseContext& context, std::string file_name);
  void Add(std::string_view rpc, std::string_view kind, const google::protobuf::Message* message,
           const std::multimap<std::string, std::string>& metadata = {},
           const grpc::Status* status = nullptr);
  void Note(std::string_view text);  // a line of context between exchanges ("registry killed")

 private:
  void Flush() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  CaseContext& context_;
  const std::string file_name_;
  absl::Mutex mu_;
  nlohmann::json entries_ ABSL_GUARDED_BY(mu_) = nlohmann::json::array();
  std::string path_ ABSL_GUARDED_BY(mu_);          // "" until the evidence file is reserved
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;  // the file could not be reserved
};

// The message as protobuf JSON (field names as in the .proto), for evidence and messages.
nlohmann::json MessageJson(const google::protobuf::Message& message);
std::string MessageText(const google::protobuf::Message& message);  // one line of that JSON

// ---------------------------------------------------------------------------------------------
// Calls

// How one call is made.
struct CallOptions {
  absl::Duration deadline = absl::Seconds(5);  // also capped by the case's deadline
  bool send_token = true;
  absl::Duration token_lifetime = absl::Minutes(10);
  std::string identity = std::string(kCallerId);
  std::map<std::string, std::string> extra_metadata;  // e.g. a malformed `path`
};

template <class T>
struct UnaryResult {
  grpc::Status status;
  T reply;
  // The server's initial metadata (the registry's `path` header, spec §8.5).
  std::multimap<std::string, std::string> headers;
  absl::Time sent;      // when the call started
  absl::Time received;  // when it ended
  bool ok() const { return status.ok(); }
};

template <class Response>
struct FindResult {
  grpc::Status status;  // how the stream ended; DEADLINE_EXCEEDED when it did not end in time
  std::vector<Response> responses;
  bool ok() const { return status.ok(); }
};

// A watch Find: responses read on a thread and queued. Cancelled and joined on destruction.
template <class Response>
class Watch {
 public:
  ~Watch();
  // The next response, or nullopt when none came within `timeout` or the stream ended.
  std::optional<Response> Next(absl::Duration timeout);
  // Every response that arrives within `window` (the window is not cut short).
  std::vector<Response> Drain(absl::Duration window);
  // The stream's end status, if it ended within `timeout` (responses still queued are dropped
  // from the wait, not from the queue).
  std::optional<grpc::Status> WaitEnd(absl::Duration timeout);
  bool ended() const;
  void Cancel();

 private:
  friend class RegistryClient;
  Watch(std::string rpc, Transcript& transcript) : rpc_(std::move(rpc)), transcript_(transcript) {}
  void Run();

  const std::string rpc_;
  Transcript& transcript_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<Response>> reader_;
  mutable absl::Mutex mu_;
  std::deque<Response> queue_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

using NseWatch = Watch<registry::NetworkServiceEndpointResponse>;
using NsWatch = Watch<registry::NetworkServiceResponse>;

// Both registry services of one registry URL. Calls record their request, reply, headers and
// status in the transcript.
class RegistryClient {
 public:
  // `url` is unix:///path or tcp://host:port. Calls wait for the connection up to their deadline.
  static absl::StatusOr<std::unique_ptr<RegistryClient>> Connect(std::string_view url,
                                                                 CaseContext& context,
                                                                 Transcript& transcript);

  UnaryResult<registry::NetworkServiceEndpoint> RegisterNse(
      const registry::NetworkServiceEndpoint& nse, const CallOptions& options = {});
  UnaryResult<google::protobuf::Empty> UnregisterNse(const registry::NetworkServiceEndpoint& nse,
                                                     const CallOptions& options = {});
  // A non-watch Find: reads to the end of the stream (or the deadline).
  FindResult<registry::NetworkServiceEndpointResponse> FindNse(
      const registry::NetworkServiceEndpoint& query, const CallOptions& options = {});
  // A watch Find, open until cancelled or the case's deadline.
  std::unique_ptr<NseWatch> WatchNse(const registry::NetworkServiceEndpoint& query,
                                     const CallOptions& options = {});

  UnaryResult<registry::NetworkService> RegisterNs(const registry::NetworkService& ns,
                                                   const CallOptions& options = {});
  UnaryResult<google::protobuf::Empty> UnregisterNs(const registry::NetworkService& ns,
                                                    const CallOptions& options = {});
  FindResult<registry::NetworkServiceResponse> FindNs(const registry::NetworkService& query,
                                                      const CallOptions& options = {});
  std::unique_ptr<NsWatch> WatchNs(const registry::NetworkService& query,
                                   const CallOptions& options = {});

  const std::string& url() const { return url_; }

 private:
  RegistryClient(std::string url, CaseContext& context, Transcript& transcript,
                 std::shared_ptr<grpc::Channel> channel);
  // Deadline, wait-for-ready, token metadata; returns the metadata sent, for the transcript.
  std::multimap<std::string, std::string> Prepare(grpc::ClientContext& call,
                                                  const CallOptions& options, bool watch) const;
  template <class Request, class Reply, class Method>
  UnaryResult<Reply> Unary(std::string_view rpc, Method method, const Request& request,
                           const CallOptions& options);
  template <class Response, class Query, class Method>
  FindResult<Response> FindAll(std::string_view rpc, Method method, const Query& query,
                               const CallOptions& options);
  template <class Response, class Query, class Method>
  std::unique_ptr<Watch<Response>> OpenWatch(std::string_view rpc, Method method,
                                             const Query& query, const CallOptions& options);

  const std::string url_;
  CaseContext& context_;
  Transcript& transcript_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<registry::NetworkServiceEndpointRegistry::Stub> nse_;
  std::unique_ptr<registry::NetworkServiceRegistry::Stub> ns_;
};

// ---------------------------------------------------------------------------------------------
// Helpers for judging

// OK, or a CaseFailure "<what>: expected OK, observed <CODE>: <message>".
absl::Status ExpectRpcOk(std::string_view what, const grpc::Status& status);
// "OK" or "INVALID_ARGUMENT: <message>".
std::string DescribeRpcStatus(const grpc::Status& status);
absl::Time ToTime(const google::protobuf::Timestamp& timestamp);
google::protobuf::Timestamp ToTimestamp(absl::Time time);
// "2030-01-02T03:04:05.123Z" or "(unset)".
std::string DescribeTimestamp(bool set, const google::protobuf::Timestamp& timestamp);
// Names of responses, sorted; deleted ones prefixed with '-'.
std::vector<std::string> NamesOf(
    const std::vector<registry::NetworkServiceEndpointResponse>& responses);
std::vector<std::string> NamesOf(const std::vector<registry::NetworkServiceResponse>& responses);
// Only the names that start with `prefix` (entries of other users of a shared registry are not
// the case's business).
std::vector<std::string> WithPrefix(const std::vector<std::string>& names, std::string_view prefix);
// "[a, b]" for messages.
std::string DescribeNames(const std::vector<std::string>& names);
// A name unique to this execution of the case: "<case id in lower case>-<6 hex digits>", so runs
// against a shared registry do not see each other's entries.
std::string UniquePrefix(const CaseContext& context);

}  // namespace nsmcert::conformance::registry_cases

#endif  // NSMCERT_CONFORMANCE_CASES_REGISTRY_REGISTRY_CLIENT_H_
