// Test-only scaffolding: run commands, and make network namespaces (with `ip`) that are always
// removed. Production code never shells out; tests may, to set up the world they observe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "pcap/netns.h"

namespace nsmcert::pcap::testing {

// Runs argv[0] (looked up in PATH) without a shell and returns its stdout, and its stderr too
// unless `keep_stderr` is false (then stderr is discarded). A non-zero exit is an error that
// carries the command line and its output.
absl::StatusOr<std::string> RunCommand(const std::vector<std::string>& argv,
                                       bool keep_stderr = true);

// A network namespace made for one test and deleted by the destructor. The name carries a role,
// the pid and a random suffix, so parallel tests and reruns never collide; namespaces left by a
// test process that died are removed by the next Create.
class ScopedNetns {
 public:
  // `role` is a short word without dashes ("a", "client").
  static absl::StatusOr<std::unique_ptr<ScopedNetns>> Create(std::string_view role);
  ~ScopedNetns();
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

  const std::string& name() const { return name_; }
  NetnsRef ref() const { return NetnsRef::Named(name_); }

  // `ip -n <name> <args...>`
  absl::Status Ip(const std::vector<std::string>& args) const;
  // `ip netns exec <name> <argv...>`, returning the output.
  absl::StatusOr<std::string> Exec(const std::vector<std::string>& argv) const;

 private:
  explicit ScopedNetns(std::string name) : name_(std::move(name)) {}
  std::string name_;
};

// Two namespaces joined by a veth pair: "veth0" in each, up, with fixed MACs and addresses:
//   a: 02:00:00:00:0a:01, 10.77.0.1/24, fd77::1/64     b: 02:00:00:00:0a:02, 10.77.0.2/24,
//   fd77::2/64
// IPv6 addresses skip duplicate address detection so they work at once.
struct VethPair {
  static constexpr std::string_view kMacA = "02:00:00:00:0a:01";
  static constexpr std::string_view kMacB = "02:00:00:00:0a:02";
  static constexpr std::string_view kIpA = "10.77.0.1";
  static constexpr std::string_view kIpB = "10.77.0.2";
  static constexpr std::string_view kIp6A = "fd77::1";
  static constexpr std::string_view kIp6B = "fd77::2";
  static constexpr std::string_view kInterface = "veth0";

  static absl::StatusOr<VethPair> Create();

  std::unique_ptr<ScopedNetns> a;
  std::unique_ptr<ScopedNetns> b;
};

// Adds a VXLAN device "vx0" (VNI `vni`, UDP 4789) on top of the pair's veth0 in each namespace,
// with overlay addresses 10.78.0.1/24 (a) and 10.78.0.2/24 (b).
absl::Status AddVxlanOverlay(const VethPair& pair, int vni);

}  // namespace nsmcert::pcap::testing
