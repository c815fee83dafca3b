// The common shape of the cases of areas B-G (connectivity, selection, context, monitor, heal,
// negative): Arrange builds one Domain (conformance/cases/domain.h) for the case on the case
// topology below, with the manifest's roles, and connects a crafted client (nsm_client.h) to the
// nsmgr of node-a whose exchanges are filed as evidence (exchanges.json). Cases add endpoints,
// requests, Act and Assert.
//
// The case topology: node-a (10.100.0.1) with workloads nsc-a, nse-a, nse-a2; node-b (10.100.0.2)
// with nse-b, nse-b2; one underlay 10.100.0.0/24, MTU 1500. A client in nsc-a reaches an NSE in
// nse-a locally (KERNEL, 4 segments) and one in nse-b remotely (VXLAN, 6 segments).
#ifndef NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_DOMAIN_CASE_H_
#define NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_DOMAIN_CASE_H_

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/cases/case.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/connectivity/dataplane.h"
#include "conformance/cases/connectivity/nsm_client.h"
#include "conformance/cases/domain.h"
#include "conformance/cases/text.h"

namespace nsmcert::conformance::nsm_cases {

inline constexpr std::string_view kNodeA = "node-a";
inline constexpr std::string_view kNodeB = "node-b";
inline constexpr std::string_view kClientWorkload = "nsc-a";
// The interface the crafted client asks for in its namespace.
inline constexpr std::string_view kClientInterface = "nsm-1";

// The case topology (see the file comment).
absl::StatusOr<harness::TopologySpec> CaseTopology();

class DomainCase : public Case {
 public:
  absl::Status Arrange(CaseContext& context) override;

 protected:
  // Hooks for a case to adjust the domain before it starts (timers, say). Default: nothing.
  virtual void Configure(DomainOptions& options) { (void)options; }

  Domain& domain() { return *domain_; }
  NsmClient& client() { return *client_; }
  Transcript& transcript() { return *transcript_; }
  // A client of the nsmgr of `node` (another than node-a), recorded in the same transcript.
  absl::StatusOr<std::unique_ptr<NsmClient>> ConnectNsmgr(CaseContext& context,
                                                          std::string_view node);

  // Starts an NSE and waits until it is registered. `workload` picks the node (nse-a*: node-a,
  // nse-b*: node-b).
  absl::StatusOr<DomainEndpoint*> StartEndpoint(EndpointOptions options,
                                                absl::Duration timeout = absl::Seconds(20));
  // A Request spec for the crafted client in nsc-a: service, connection id "<case>-<n>", KERNEL
  // into nsc-a named nsm-1 (unless changed).
  RequestSpec KernelRequest(std::string_view service, std::string_view suffix = "0");
  // The client namespace (a name, for dataplane.h).
  std::string ClientNetns() const { return domain_->NetnsName(kClientWorkload); }

  // Requests and fails the case with the status when the implementation refused.
  absl::StatusOr<connection::Connection> RequestOk(const RequestSpec& spec,
                                                   const NsmCallOptions& options = {});
  // Pings from the client namespace until a reply (at most `timeout`); a CaseFailure with ping's
  // output otherwise.
  absl::Status ExpectPing(std::string_view from_netns, std::string_view address,
                          absl::Duration timeout = absl::Seconds(10));

 private:
  // Declared first, destroyed last: the client and streams of derived cases go before it.
  std::unique_ptr<Domain> domain_;
  std::unique_ptr<Transcript> transcript_;
  std::unique_ptr<NsmClient> client_;
  std::string id_prefix_;  // the case id in lower case: connection ids "<prefix>-<suffix>"
};

// Checks that a connection returned to the client has the common shape of spec §5.1/§17:
// `segment_count` segments, names in `names` where not empty, index 0, id = segment 0 id, every
// segment with an id, a token and an expiry. One status per finding, for CaseContext::Check.
std::vector<absl::Status> CheckReturnedPath(const connection::Connection& reply,
                                            const std::string& client_id,
                                            const std::vector<std::string>& names);

}  // namespace nsmcert::conformance::nsm_cases

#endif  // NSMCERT_CONFORMANCE_CASES_CONNECTIVITY_DOMAIN_CASE_H_
