// What the cases of areas B-G use to talk to an nsmgr (or any NetworkService server) the way a
// client does, but with full control of every field: crafted Requests and Closes with per-RPC
// tokens (spec §2.3), MonitorConnections streams (spec §7), and a transcript of every exchange
// filed as the case's evidence (the Transcript of the registry cases).
//
// Nothing here looks inside an implementation: cases judge the replies, statuses and events.
//
// Threading: an NsmClient may be used from one thread at a time; a MonitorStream reads its stream
// on its own thread and its methods are thread-safe.
#ifndef NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_NSM_CLIENT_H_
#define NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_NSM_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/registry/registry_client.h"
#include "connection.grpc.pb.h"
#include "networkservice.grpc.pb.h"

namespace nsmcert::conformance::nsm_cases {

using registry_cases::Transcript;

// The identity crafted requests are made as (the `sub` of their tokens).
inline constexpr std::string_view kClientId = "spiffe://nsmcert.conformance/nsc";

// How one call is made. A token is sent unless `send_token` is false; `token` replaces the
// well-formed one (a forged or malformed token), `token_expires` its expiry metadata.
struct NsmCallOptions {
  absl::Duration deadline = absl::Seconds(20);  // also capped by the case's deadline
  bool send_token = true;
  absl::Duration token_lifetime = absl::Minutes(10);  // negative: an already expired token
  std::string identity = std::string(kClientId);
  std::optional<std::string> token;
  std::optional<std::string> token_expires;
};

struct RequestResult {
  grpc::Status status;
  connection::Connection reply;
  absl::Time sent;
  absl::Time received;
  bool ok() const { return status.ok(); }
};

// A MonitorConnections stream: events read on a thread and queued. Cancelled and joined on
// destruction.
class MonitorStream {
 public:
  ~MonitorStream();
  // The next event, or nullopt when none came within `timeout` or the stream ended.
  std::optional<connection::ConnectionEvent> Next(absl::Duration timeout);
  // Skips events until one satisfies `match` (returned) or `timeout` passes (nullopt). Skipped
  // events stay readable through Seen().
  std::optional<connection::ConnectionEvent> WaitFor(
      const std::function<bool(const connection::ConnectionEvent&)>& match, absl::Duration timeout);
  // Every event received so far, in order (also those already taken by Next/WaitFor).
  std::vector<connection::ConnectionEvent> Seen() const;
  // The stream's end status, if it ended within `timeout`.
  std::optional<grpc::Status> WaitEnd(absl::Duration timeout);
  void Cancel();

 private:
  friend class NsmClient;
  MonitorStream(std::string rpc, Transcript& transcript)
      : rpc_(std::move(rpc)), transcript_(transcript) {}
  void Run();

  const std::string rpc_;
  Transcript& transcript_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReaderInterface<connection::ConnectionEvent>> reader_;
  mutable absl::Mutex mu_;
  std::deque<connection::ConnectionEvent> queue_ ABSL_GUARDED_BY(mu_);
  std::vector<connection::ConnectionEvent> seen_ ABSL_GUARDED_BY(mu_);
  std::optional<grpc::Status> end_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

// NetworkService and MonitorConnection of one server URL.
class NsmClient {
 public:
  // `url` is unix:///path or tcp://host:port; `label` names the server in the transcript
  // ("nsmgr-node-a"). Calls wait for the connection up to their deadline.
  static absl::StatusOr<std::unique_ptr<NsmClient>> Connect(std::string_view url,
                                                            std::string_view label,
                                                            CaseContext& context,
                                                            Transcript& transcript);

  RequestResult Request(const networkservice::NetworkServiceRequest& request,
                        const NsmCallOptions& options = {});
  grpc::Status Close(const connection::Connection& connection, const NsmCallOptions& options = {});
  // A MonitorConnections stream with `selector`, open until cancelled or the case's deadline.
  std::unique_ptr<MonitorStream> Monitor(const connection::MonitorScopeSelector& selector,
                                         const NsmCallOptions& options = {});

  const std::string& url() const { return url_; }

 private:
  NsmClient(std::string url, std::string label, CaseContext& context, Transcript& transcript,
            std::shared_ptr<grpc::Channel> channel);
  std::multimap<std::string, std::string> Prepare(grpc::ClientContext& call,
                                                  const NsmCallOptions& options, bool stream) const;

  const std::string url_;
  const std::string label_;
  CaseContext& context_;
  Transcript& transcript_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<networkservice::NetworkService::Stub> network_service_;
  std::unique_ptr<connection::MonitorConnection::Stub> monitor_;
};

// ---------------------------------------------------------------------------------------------
// Building requests

// `inode://<dev>/<ino>` of a network namespace file (/run/netns/<name>, /proc/<pid>/ns/net), as
// the KERNEL mechanism's inodeURL carries it on the wire (spec §2.5, §4).
absl::StatusOr<std::string> NetnsInodeUrl(const std::string& netns_path);

// What a client's first Request holds (spec §17 step 2).
struct RequestSpec {
  std::string client_name = "nsc";  // path segment 0 name
  std::string connection_id;        // segment 0 id and connection.id
  std::string network_service;
  std::string interface_name = "nsm-1";  // KERNEL `name`
  std::string netns_inode_url;           // KERNEL `inodeURL`; empty: left out
  std::map<std::string, std::string> labels;
  std::string mechanism_type = "KERNEL";  // of the one preference, with cls LOCAL
  std::string payload;                    // empty: left to the NS
  std::vector<std::string> excluded_prefixes;
  std::uint32_t mtu = 0;
};
networkservice::NetworkServiceRequest MakeRequest(const RequestSpec& spec);

// A refresh: the returned connection sent back as it came, with path index 0 and the client's own
// id (spec §5.1, §14 B.12).
networkservice::NetworkServiceRequest MakeRefresh(const connection::Connection& returned,
                                                  const RequestSpec& spec);

// ---------------------------------------------------------------------------------------------
// Reading replies

// Names of the path segments, client first: "[nsc, nsmgr-node-a, ...]".
std::vector<std::string> SegmentNames(const connection::Connection& connection);
std::string DescribeSegments(const connection::Connection& connection);
// The addresses of ip_context without their prefix length ("" when none).
std::string FirstSrcIp(const connection::Connection& connection);
std::string FirstDstIp(const connection::Connection& connection);
// "OK" or "CODE: message", for failure messages.
std::string DescribeStatus(const grpc::Status& status);
// The connections of an event whose path segment 0 id is `client_id` (any key).
std::vector<connection::Connection> ConnectionsOfClient(const connection::ConnectionEvent& event,
                                                        std::string_view client_id);
std::string_view EventTypeName(connection::ConnectionEventType type);

}  // namespace nsmcert::conformance::nsm_cases

#endif  // NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_NSM_CLIENT_H_
