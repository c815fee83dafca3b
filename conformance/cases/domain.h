// A Network Service Mesh domain for one case or test: a topology of network namespaces
// (conformance/harness) with the manifest's roles started in it the way the manifest says
// (roles.h), so that the reference daemons and an implementation under test are interchangeable.
//
// What is started when:
//   Domain::Start   builds the topology (fixtures/topologies/two-node.yaml unless told otherwise),
//                   then the registry (in the namespace of DomainOptions::registry_node, serving
//                   on tcp://<node address>:5002, reachable from every node over the underlay),
//                   then per node an nsmgr (unix socket for the node's workloads and forwarder, and
//                   tcp://<node address>:5001 for other nodes) and, once every nsmgr is healthy,
//                   per node a forwarder (unix socket) wired to its node's nsmgr. Each waits for
//                   gRPC health before the next starts. On failure everything started is stopped
//                   and the topology removed before the error is returned.
//   StartEndpoint   an NSE in a workload namespace, registered through its node's nsmgr; returns
//                   once it serves gRPC health (registration may still be under way: wait with
//                   WaitForEndpoint). Its configuration reaches reference and external NSEs alike
//                   as cmd-nse-icmp-responder's variables (spec §13.3), under the manifest's env.
//   RequestOnce     a one-shot NSC (`nsmcert-nsc --oneshot`): requests, prints, exits; returns the
//                   Connections it received. Leaves the connections in place (with
//                   ClientOptions::close_after_request: closes them before exiting).
//   StartClient     a long-running NSC that keeps its connections (refresh, heal) until it is
//                   stopped (SIGTERM closes them). Its connections are read from the nsmgr's
//                   monitor (WaitForClientConnections).
// Fixed ports are safe: every address lives in the run's private namespaces. They also keep URLs
// stable across restarts, which healing relies on (the registry holds the nsmgrs' tcp URLs).
//
// Teardown: the destructor (or Stop) stops clients and endpoints, then forwarders, nsmgrs and the
// registry (SIGTERM, SIGKILL after a grace period), then removes the topology's namespaces. Nothing
// is left: no process, no namespace, no work directory.
//
// Errors: absl::Status values. A role the suite cannot start is the harness's trouble (a plain
// error); an external role that never reports healthy is a CaseFailure (roles.h). Wait* methods
// return DEADLINE_EXCEEDED naming what they waited for and what they saw last.
//
// Threading: a Domain is driven by one thread (the case's or the test's); Kill/Restart of a
// RunningRole and the read-only accessors may be called from others. The CaseContext must outlive
// the Domain.
#ifndef NSMCERT_CONFORMANCE_CASES_DOMAIN_H_
#define NSMCERT_CONFORMANCE_CASES_DOMAIN_H_

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/cases/case.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/clock.h"
#include "conformance/cases/evidence.h"
#include "conformance/cases/roles.h"
#include "conformance/harness/process.h"
#include "conformance/harness/topology.h"
#include "conformance/runner/manifest.h"
#include "connection.pb.h"

namespace nsmcert::conformance {

// Well-known ports (spec §12), used on the nodes' underlay addresses.
inline constexpr int kDomainRegistryPort = 5002;
inline constexpr int kDomainNsmgrPort = 5001;

// The topology file Domain::Start builds when DomainOptions names none (the source tree's
// fixtures/topologies/two-node.yaml; NSMCERT_TOPOLOGY_FILE in the environment overrides it).
std::filesystem::path DefaultTopologyFile();

struct DomainOptions {
  // The topology; when unset, DefaultTopologyFile() is loaded.
  std::optional<harness::TopologySpec> topology;
  // The node whose namespace runs the registry; empty: the first node.
  std::string registry_node;
  // Extra environment of every reference daemon the domain starts (registry, nsmgrs, forwarders,
  // NSEs, NSCs), e.g. {"NSM_MAX_TOKEN_LIFETIME", "30s"}. Per-role maps below win over it.
  std::map<std::string, std::string> env;
  std::map<std::string, std::string> registry_env;
  std::map<std::string, std::string> nsmgr_env;
  std::map<std::string, std::string> forwarder_env;
  std::string log_level = "INFO";
};

// One node's control plane.
struct DomainNode {
  const harness::BuiltNode* node = nullptr;  // owned by the topology
  std::string address;                       // underlay address, e.g. "10.100.0.1"
  std::unique_ptr<RunningRole> nsmgr;
  std::unique_ptr<RunningRole> forwarder;
  std::string nsmgr_url;         // unix://...: what the node's forwarder, NSEs and NSCs dial
  std::string nsmgr_public_url;  // tcp://<address>:5001: what the registry and other nodes see
};

struct EndpointOptions {
  std::string workload;  // a workload of the topology; the NSE runs in its namespace
  std::string name;      // NSM_NAME; empty: the workload's name
  std::vector<std::string> services = {"icmp-responder"};
  std::map<std::string, std::string> labels;  // NSM_LABELS, for every service
  std::string cidr = "172.16.1.100/31";       // NSM_CIDR_PREFIX
  std::string payload = "ETHERNET";           // NSM_PAYLOAD
  std::map<std::string, std::string> env;     // extra environment (reference NSE)
};

// A started NSE.
struct DomainEndpoint {
  EndpointOptions options;  // name filled in
  std::string node;         // the node of its workload
  std::unique_ptr<RunningRole> role;
};

struct ClientOptions {
  std::string workload;  // a workload of the topology; the NSC runs in its namespace
  std::string name;      // NSM_NAME; empty: the workload's name. Connection ids: <name>-<i>.
  // NSURLs, kernel://<service>[/<interface>][?label=value&...] (spec §13.4).
  std::vector<std::string> network_services = {"kernel://icmp-responder/nsm-1"};
  std::map<std::string, std::string> labels;           // NSM_LABELS
  absl::Duration request_timeout = absl::Seconds(15);  // NSM_REQUEST_TIMEOUT
  // One-shot only: close the connections before exiting (`--close`).
  bool close_after_request = false;
  std::map<std::string, std::string> env;  // extra environment
};

// A started long-running NSC.
class DomainClient {
 public:
  const ClientOptions& options() const { return options_; }
  const std::string& node() const { return node_; }
  // "<name>-<i>" for each NSURL, in order (spec §13.4).
  std::vector<std::string> connection_ids() const;
  harness::Process& process() { return *process_; }
  // SIGTERM (the client closes its connections), SIGKILL after `grace`.
  absl::Status Stop(absl::Duration grace = absl::Seconds(5));
  std::string LogTail(int lines = 20) const { return process_->LogTail(lines); }

 private:
  friend class Domain;
  ClientOptions options_;
  std::string node_;
  std::unique_ptr<harness::Supervisor> supervisor_;
  harness::Process* process_ = nullptr;
};

// A monitor selector (spec §7): empty fields match everything.
struct MonitorSelector {
  std::vector<std::string> network_services;
  std::vector<connection::PathSegment> path_segments;
};

class Domain {
 public:
  // Builds the topology and starts registry, nsmgrs and forwarders (see the file comment).
  static absl::StatusOr<std::unique_ptr<Domain>> Start(CaseContext& context,
                                                       DomainOptions options = {});
  ~Domain();  // Stop()
  Domain(const Domain&) = delete;
  Domain& operator=(const Domain&) = delete;

  // Stops every process (clients and endpoints, forwarders, nsmgrs, registry) and removes the
  // namespaces. Idempotent; returns every failure joined.
  absl::Status Stop();

  // --- what runs ---
  harness::Topology& topology() { return *topology_; }
  const DomainOptions& options() const { return options_; }
  RunningRole& registry() { return *registry_; }
  // tcp://<registry node address>:5002.
  const std::string& registry_url() const { return registry_url_; }
  // Nodes in topology order. NOT_FOUND-style nullptr lookups for unknown names.
  std::vector<DomainNode*> nodes();
  DomainNode* node(std::string_view name);
  // The node's nsmgr / forwarder; the domain must have the node (CHECK-free: nullptr otherwise).
  RunningRole* nsmgr(std::string_view node_name);
  RunningRole* forwarder(std::string_view node_name);
  // The namespace path (/run/netns/...) of a node, workload or "fabric"; "" when unknown.
  std::string NetnsPath(std::string_view element) const;
  std::string NetnsName(std::string_view element) const;

  // --- endpoints and clients ---
  // Starts an NSE (see the file comment). INVALID_ARGUMENT for an unknown workload, ALREADY_EXISTS
  // for a name in use.
  absl::StatusOr<DomainEndpoint*> StartEndpoint(EndpointOptions options);
  DomainEndpoint* endpoint(std::string_view name);
  // Stops and forgets an endpoint (SIGTERM: the reference NSE unregisters itself).
  absl::Status StopEndpoint(std::string_view name);

  // Runs a one-shot NSC and returns its connections, in NSURL order. The NSC's exit status and
  // output name the failure otherwise (its log is kept as evidence: <name>-oneshot-<n>.log).
  absl::StatusOr<std::vector<connection::Connection>> RequestOnce(ClientOptions options);
  // Starts a long-running NSC; wait for its connections with WaitForClientConnections.
  absl::StatusOr<DomainClient*> StartClient(ClientOptions options);
  DomainClient* client(std::string_view name);
  // Stops and forgets a client; its connections are closed by the client itself on SIGTERM.
  absl::Status StopClient(std::string_view name, absl::Duration grace = absl::Seconds(5));

  // --- observing ---
  // The connections the nsmgr of `node_name` holds, from the INITIAL_STATE_TRANSFER of a fresh
  // MonitorConnections stream (keyed as the nsmgr keys them).
  absl::StatusOr<std::map<std::string, connection::Connection>> MonitorSnapshot(
      std::string_view node_name, const MonitorSelector& selector = {},
      absl::Duration timeout = absl::Seconds(5));
  // The same from any MonitorConnection server reachable from here (a forwarder's or an NSE's
  // unix URL, RunningRole::url()).
  absl::StatusOr<std::map<std::string, connection::Connection>> MonitorSnapshotAt(
      const std::string& url, const MonitorSelector& selector = {},
      absl::Duration timeout = absl::Seconds(5));
  // Waits until the server at `url` reports no connection at all.
  absl::Status WaitForNoConnectionsAt(const std::string& url, absl::Duration timeout);
  // Waits until the nsmgr of the client's node reports every connection of `client` UP (state UP
  // or unset) with a full path (last segment named after an endpoint), and returns them in NSURL
  // order. With `different_from`, waits for connections whose endpoint-side addresses or path
  // differ from those (a heal that moved the connection); pass {} to accept any.
  absl::StatusOr<std::vector<connection::Connection>> WaitForClientConnections(
      const DomainClient& client, absl::Duration timeout,
      const std::vector<connection::Connection>& different_from = {});
  // Waits until the nsmgr of `node_name` reports no connection at all.
  absl::Status WaitForNoConnections(std::string_view node_name, absl::Duration timeout);
  // Waits until the registry lists an NSE named `name` (through the nsmgr of the endpoint's node).
  absl::Status WaitForEndpoint(std::string_view name, absl::Duration timeout);
  // Names of the NSEs in the registry (queried on the registry itself).
  absl::StatusOr<std::vector<std::string>> RegisteredEndpoints(
      absl::Duration timeout = absl::Seconds(5));

  // ICMP echo from inside the namespace of `element` (a workload or node) to `ip`: the number of
  // replies out of `count` (each waited for `timeout`).
  absl::StatusOr<int> Ping(std::string_view element, std::string_view ip, int count = 3,
                           absl::Duration timeout = absl::Seconds(1));
  // Links in the namespace of `element`, as "name (kind)" lines (leak checks, interface checks).
  absl::StatusOr<std::vector<std::string>> Links(std::string_view element);
  // The IPv4/IPv6 addresses (CIDR text) on interface `interface` in the namespace of `element`;
  // NOT_FOUND when there is no such interface.
  absl::StatusOr<std::vector<std::string>> InterfaceAddresses(std::string_view element,
                                                              std::string_view interface);

  // --- fault injection ---
  // Deletes the named namespace of a workload and creates it again under the same name (a pod
  // re-created): processes inside are killed first. The new namespace has only `lo` (up).
  absl::Status RecreateWorkloadNamespace(std::string_view workload);

  // Where every process's log is: the case's evidence directory (<name>.log).
  std::filesystem::path LogDir() const { return context_.evidence().dir(); }

 private:
  Domain(CaseContext& context, DomainOptions options);
  absl::Status StartControlPlane();
  std::map<std::string, std::string> ReferenceEnv(const std::map<std::string, std::string>& role,
                                                  const std::string& name) const;
  absl::StatusOr<std::filesystem::path> ClientBinary() const;

  CaseContext& context_;
  DomainOptions options_;
  std::unique_ptr<harness::Topology> topology_;
  std::filesystem::path work_dir_;  // short: unix socket paths live here
  std::unique_ptr<RunningRole> registry_;
  std::string registry_url_;
  std::vector<std::unique_ptr<DomainNode>> nodes_;
  std::vector<std::unique_ptr<DomainEndpoint>> endpoints_;
  std::vector<std::unique_ptr<DomainClient>> clients_;
  int oneshots_ = 0;
  bool stopped_ = false;
};

// A CaseContext for plain GoogleTests (and other hosts outside the runner): the reference
// manifest (fixtures/manifests/reference.yaml, or `manifest_file`), a temporary output directory
// (removed on destruction unless NSMCERT_KEEP_TEST_OUTPUT is set), evidence and case log in it,
// the real clock, a deadline `timeout` from now, and the reference daemons from `bin_dir` (the
// build tree; empty: found next to the running executable as roles.h says).
class StandaloneCaseContext {
 public:
  struct Options {
    std::string id = "TEST-000";
    std::filesystem::path manifest_file;  // empty: the reference manifest
    std::filesystem::path bin_dir;
    absl::Duration timeout = absl::Minutes(5);
  };
  static absl::StatusOr<std::unique_ptr<StandaloneCaseContext>> Create(Options options);
  ~StandaloneCaseContext();

  CaseContext& context() { return *context_; }
  const std::filesystem::path& dir() const { return dir_; }

 private:
  StandaloneCaseContext() = default;
  std::filesystem::path dir_;
  bool keep_ = false;
  CaseInfo info_;
  Manifest manifest_;
  std::unique_ptr<EvidenceRecorder> evidence_;
  std::unique_ptr<CaseLog> log_;
  CancellationFlag cancelled_{false};
  std::unique_ptr<CaseContext> context_;
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_DOMAIN_H_
