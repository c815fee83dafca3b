// What the cases of areas B-G observe in the data plane: kernel state in a namespace (an
// interface, its addresses, MTU and routes), ICMP reachability (ping), and packet captures filed
// as the case's evidence (pcap/ does the capturing and matching).
//
// Namespaces are named (`ip netns`) or given as a path (/run/netns/<name>); kernel state is read
// with `ip -json`, ping runs the system's ping inside the namespace: a few processes per case, and
// nothing here depends on the implementation under test.
#ifndef NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_DATAPLANE_H_
#define NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_DATAPLANE_H_

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/cases/case_context.h"
#include "pcap/capture.h"
#include "pcap/packet_verifier.h"

namespace nsmcert::conformance::nsm_cases {

// A network interface as the namespace's kernel reports it.
struct InterfaceState {
  std::string name;
  int ifindex = 0;
  int mtu = 0;
  bool up = false;
  std::string kind;                // "veth", "vxlan", ... ("" when not reported)
  std::vector<std::string> cidrs;  // "172.16.1.101/32"; IPv6 link-local ones left out
  std::uint32_t vxlan_id = 0;      // for kind vxlan
};

// The interface `name` in `netns` (a name or a /run/netns path); nullopt when it does not exist.
// Errors: the namespace cannot be entered or `ip` failed.
absl::StatusOr<std::optional<InterfaceState>> ReadInterface(std::string_view netns,
                                                            std::string_view name);
// Every interface of `netns`, loopback included.
absl::StatusOr<std::vector<InterfaceState>> ReadInterfaces(std::string_view netns);
// Destinations of `netns`'s main routing table ("172.16.1.100", "default", ...), with their device:
// "172.16.1.100 dev nsm-1".
absl::StatusOr<std::vector<std::string>> ReadRoutes(std::string_view netns);

struct PingResult {
  int sent = 0;
  int received = 0;
  std::string output;  // ping's stdout and stderr, for messages
  bool ok() const { return received > 0; }
};
// `count` echo requests from `netns` to `address`, 200 ms apart, each waiting at most `wait`.
// An error only when ping could not be run.
absl::StatusOr<PingResult> Ping(std::string_view netns, std::string_view address, int count = 3,
                                absl::Duration wait = absl::Seconds(1));
// Pings until one reply came or `timeout` passed (the data path may need a moment after Request
// returns, e.g. for ARP). The last result.
absl::StatusOr<PingResult> PingUntilReply(std::string_view netns, std::string_view address,
                                          absl::Duration timeout);

// Runs a command inside `netns`; its exit code and output. An error only when it could not run.
struct CommandOutput {
  int exit_code = -1;
  std::string output;
};
absl::StatusOr<CommandOutput> RunInNetns(std::string_view netns,
                                         const std::vector<std::string>& argv);

// A live capture on `interface` of `netns` ("any" for all), written to <case dir>/<file_name>
// as evidence, with a verifier over it.
struct CaseCapture {
  std::unique_ptr<pcap::Capture> capture;
  std::unique_ptr<pcap::PacketVerifier> verifier;
};
absl::StatusOr<CaseCapture> StartCapture(CaseContext& context, std::string_view netns,
                                         std::string_view interface, std::string_view filter,
                                         std::string_view file_name, std::string_view description);

// "/run/netns/<name>" -> "<name>"; a name stays as it is.
std::string NetnsName(std::string_view netns);

}  // namespace nsmcert::conformance::nsm_cases

#endif  // NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_DATAPLANE_H_
