// The scenario benchmarks on a reference domain (conformance/cases/domain.h): connection setup
// latency and rate, memory per connection, heal time per role killed, and the data path the
// reference forwarder programs for a real connection. Each returns a JSON fragment of the
// "nsmcert-scenario/1" document (README.md); figures are never judged here.
//
// The domain is the two-node topology (fixtures/topologies/two-node.yaml) plus an endpoint
// workload on the client's node, so that both shapes exist:
//   node-a: nsc-a (the client's namespace), nse-a (endpoint of "bench-local")
//   node-b: nse-b (endpoint of "bench-remote", reached over VXLAN)
// Clients run in this process (reference/nsc's NscClient, its kernel interfaces created in nsc-a)
// so that no process start-up is in the figures.
//
// Threading: one scenario at a time per BenchDomain. Needs root.
#ifndef NSMCERT_BENCH_SCENARIO_SCENARIOS_H_
#define NSMCERT_BENCH_SCENARIO_SCENARIOS_H_

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "bench/datapath/suite.h"
#include "conformance/cases/domain.h"
#include "nlohmann/json.hpp"
#include "reference/kernel/netns.h"

namespace nsmcert::bench::scenario {

inline constexpr char kLocalService[] = "bench-local";
inline constexpr char kRemoteService[] = "bench-remote";
inline constexpr char kClientWorkload[] = "nsc-a";

struct BenchDomainOptions {
  // Where the reference daemons are (RoleSettings::bin_dir).
  std::filesystem::path bin_dir;
  std::string log_level = "WARN";
};

// The started domain with both endpoints registered, and a handle on the client's namespace.
class BenchDomain {
 public:
  static absl::StatusOr<std::unique_ptr<BenchDomain>> Start(const BenchDomainOptions& options);
  ~BenchDomain();

  conformance::Domain& domain() { return *domain_; }
  const kernel::NetNs& client_ns() const { return client_ns_; }
  // The nsmgr the client dials (node-a's unix socket).
  std::string client_nsmgr_url();

 private:
  BenchDomain() = default;
  std::unique_ptr<conformance::StandaloneCaseContext> context_;
  std::unique_ptr<conformance::Domain> domain_;
  kernel::NetNs client_ns_;
};

struct SetupConfig {
  std::vector<int> concurrency = {1, 100, 1000};
  // Connections per round; a round has at least `concurrency` connections.
  int connections = 200;
  absl::Duration request_timeout = absl::Seconds(120);
};
// Per shape (local, remote) and concurrency: every Request's round trip as the client sees it
// (p50/p90/p99), connections per second, failures; the same number of gRPC health checks on the
// same nsmgr at the same concurrency as the baseline; the Close round trips. Connections are
// closed after each round.
nlohmann::json MeasureSetup(BenchDomain& bench, const SetupConfig& config, std::ostream& log);

struct MemoryConfig {
  int connections = 200;
  int concurrency = 10;
  int warmup = 10;  // connections made and closed first, so first-use allocations are not counted
};
// Per shape: RSS of the nsmgr(s), forwarder(s) and the endpoint before and after `connections`
// connections, per connection, and after closing them.
nlohmann::json MeasureMemory(BenchDomain& bench, const MemoryConfig& config, std::ostream& log);

struct HealConfig {
  // Any of: nse, local-forwarder, remote-forwarder, remote-nsmgr, registry.
  std::vector<std::string> roles = {"nse", "local-forwarder", "remote-forwarder", "remote-nsmgr",
                                    "registry"};
  int repetitions = 3;
  absl::Duration probe_interval = absl::Milliseconds(10);
  // How long to keep watching: at most `max_window` after the kill; done early once the
  // connection was re-requested and then answered for `stable`, or when nothing broke for
  // `quiet` after the restart.
  absl::Duration max_window = absl::Seconds(20);
  absl::Duration stable = absl::Seconds(1);
  absl::Duration quiet = absl::Seconds(3);
};
// A remote connection (nsc-a -> nse-b) kept by a healing client; per repetition the role is
// killed (SIGKILL) and started again at once; pings every probe_interval through the connection
// and the client's re-requests give the heal time (measure.h AnalyseHeal).
nlohmann::json MeasureHeal(BenchDomain& bench, const HealConfig& config, std::ostream& log);

struct ProfileConfig {
  // Any of (optionally "@<concurrency>": that target at its own concurrency, with at least as
  // many connections): local/nsmgr (the whole local path), local/forwarder (straight to node-a's
  // forwarder, skipping the nsmgr), local/nse (straight to the endpoint), remote/nsmgr (the whole
  // remote path), remote/nsmgr-b and remote/forwarder-b (node-b's nsmgr / forwarder asked for a
  // KERNEL connection into the client's namespace, as if the client were on node-b), remote/nse.
  // Subtracting one target from the next gives the cost of one hop.
  std::vector<std::string> targets = {"local/nse",   "local/forwarder",    "local/nsmgr",
                                      "remote/nse",  "remote/forwarder-b", "remote/nsmgr-b",
                                      "remote/nsmgr"};
  int connections = 100;  // per target, made one after the other, then closed one after the other
  int concurrency = 1;
  int warmup = 5;  // per target, made and closed before anything is measured
  // Before each target's Requests, before its Closes and after them: print one line
  // "profile: <phase> <json with pids>" on `log` and wait for a line on stdin, so that a profiler
  // can be attached to the daemons for exactly one phase (profile_setup.py does this).
  bool pause = false;
};
// Per target: every Request's and Close's round trip, and the CPU time (user + system, from
// /proc/<pid>/stat) each daemon and this process spent per operation during the Requests and
// during the Closes, next to the wall time per operation; the threads each daemon has.
nlohmann::json MeasureProfile(BenchDomain& bench, const ProfileConfig& config, std::ostream& log);

struct DataPathConfig {
  SuiteConfig suite;
  bool local = true;
  bool remote = true;
};
// A local and a remote connection; the data-path suite (bench/datapath) over the namespaces and
// addresses the forwarders programmed, next to plain-veth and plain-vxlan in the same run.
absl::StatusOr<nlohmann::json> MeasureDataPath(BenchDomain& bench, const DataPathConfig& config,
                                               std::ostream& log);

}  // namespace nsmcert::bench::scenario

#endif  // NSMCERT_BENCH_SCENARIO_SCENARIOS_H_
