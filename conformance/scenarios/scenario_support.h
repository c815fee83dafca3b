// Helpers shared by the scenarios: a context and topology for a test, address and path reading,
// pings that wait for the data path, and packet expectations around a ping (pcap/).
#ifndef NSMCERT_CONFORMANCE_SCENARIOS_SCENARIO_SUPPORT_H_
#define NSMCERT_CONFORMANCE_SCENARIOS_SCENARIO_SUPPORT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "conformance/cases/domain.h"
#include "connection.pb.h"

namespace nsmcert::conformance::scenarios {

// A CaseContext over the reference manifest with the daemons of this build tree; `id` names the
// test in its output directory (kept when NSMCERT_KEEP_TEST_OUTPUT is set).
std::unique_ptr<StandaloneCaseContext> MakeContext(std::string_view id);

// fixtures/topologies/two-node.yaml plus a client workload "nsc-b" on node-b (for a local
// connection beside the endpoint "nse-b").
absl::StatusOr<harness::TopologySpec> TwoNodeWithLocalClient();

// The first address of a CIDR list without its length ("172.16.1.101"); "" when empty.
std::string FirstAddress(const google::protobuf::RepeatedPtrField<std::string>& cidrs);
std::string ClientAddress(const connection::Connection& conn);    // src, the NSC side
std::string EndpointAddress(const connection::Connection& conn);  // dst, the NSE side
std::vector<std::string> SegmentNames(const connection::Connection& conn);

// `cidrs` without IPv6 link-local ones (fe80::/10), which the kernel adds to every interface.
std::vector<std::string> GlobalAddresses(const std::vector<std::string>& cidrs);

// Pings `ip` from `workload` once a round until a reply comes, for at most `timeout`. Returns how
// long it took.
absl::StatusOr<absl::Duration> PingUntilReply(Domain& domain, std::string_view workload,
                                              std::string_view ip, absl::Duration timeout);

// Pings `dst` from `workload` while capturing ICMP on `interface` there: an echo request
// src -> dst and its reply dst -> src must cross the interface. The capture is filed as evidence
// (`evidence_name`.pcap).
absl::Status ExpectIcmpOnInterface(Domain& domain, std::string_view workload,
                                   std::string_view interface, std::string_view src,
                                   std::string_view dst, std::string_view evidence_name);

// Pings `dst` from `workload` while capturing UDP 4789 on the underlay interface of `node`: the
// echo request and reply must cross it VXLAN-encapsulated with `vni`, inner addresses src <-> dst.
absl::Status ExpectVxlanIcmpOnUnderlay(Domain& domain, std::string_view node,
                                       std::string_view workload, std::uint32_t vni,
                                       std::string_view src, std::string_view dst,
                                       std::string_view evidence_name);

// The VXLAN VNI the nsmgr of `node` sees on the connection whose first segment id is
// `client_connection_id` (the remote hop's mechanism).
absl::StatusOr<std::uint32_t> RemoteVni(Domain& domain, std::string_view node,
                                        std::string_view client_connection_id);

// Waits until the MonitorConnection server at `url` reports the connection whose first segment id
// is `client_connection_id` in a state `wanted` accepts (nullptr: absent). Returns it (an empty
// Connection when absent was wanted).
absl::StatusOr<connection::Connection> WaitForConnectionAt(
    Domain& domain, const std::string& url, std::string_view client_connection_id,
    const std::function<bool(const connection::Connection*)>& wanted, std::string_view what,
    absl::Duration timeout);

// The links of every node and workload namespace of the domain, by element name.
absl::StatusOr<std::map<std::string, std::vector<std::string>>> LinksByNamespace(Domain& domain);

// Links whose name starts with one of the reference forwarder's device prefixes or that are VXLAN
// devices, i.e. per-connection state ("fwi-...", "fwo-...", "... (vxlan)").
std::vector<std::string> ConnectionLinks(const std::vector<std::string>& links);

}  // namespace nsmcert::conformance::scenarios

#endif  // NSMCERT_CONFORMANCE_SCENARIOS_SCENARIO_SUPPORT_H_
