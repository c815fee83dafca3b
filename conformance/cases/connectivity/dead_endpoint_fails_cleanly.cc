// DP-KERNEL-004: a Request that can only reach a dead NSE (killed, its registration still in
// the registry) fails with an error within its deadline and leaves nothing behind: no interface
// in the client namespace, no connection held by the nsmgr; the nsmgr keeps serving (spec §9.1,
// §14 B.20).
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class DeadEndpointFailsCleanly : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-KERNEL-004";
    info.title = "Request to a dead NSE fails within its deadline and leaves nothing behind";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel"};
    info.spec = "§9.1, §14 B.20";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_ASSIGN_OR_RETURN(endpoint_, StartEndpoint(nse));
    if (!endpoint_->role->supervised()) {
      return CaseSkip("the NSE is reached at an address: the suite cannot kill it");
    }
    NSMCERT_CASE_RETURN_IF_ERROR(endpoint_->role->Kill());
    spec_ = KernelRequest("icmp-responder");
    NsmCallOptions options;
    options.deadline = absl::Seconds(8);
    result_ = client().Request(MakeRequest(spec_), options);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    NSMCERT_CASE_RETURN_IF_ERROR(
        Expect(!result_.ok(),
               "the Request to a network service whose only NSE is dead to fail, but it "
               "succeeded"));
    context.Check(Expect(result_.received - result_.sent < absl::Seconds(9),
                         Cat("the failure within the request deadline (8s), observed after ",
                             absl::FormatDuration(result_.received - result_.sent))));
    context.log().Write(Cat("Request failed as expected: ", DescribeStatus(result_.status)));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    context.Check(Expect(!iface.has_value(), Cat("no interface ", kClientInterface,
                                                 " after a failed Request, observed one")));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(kNodeA));
    context.Check(
        ExpectEq("connections the nsmgr holds after the failed Request", 0u, held.size()));
    // Still serving: a live NSE for the same service is reached.
    EndpointOptions live;
    live.workload = "nse-a2";
    live.cidr = "172.16.2.100/31";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(live).status());
    RequestSpec again = KernelRequest("icmp-responder", "1");
    absl::StatusOr<connection::Connection> reply;
    for (int attempt = 0; attempt < 5; ++attempt) {  // the dead entry may be tried first
      reply = RequestOk(again);
      if (reply.ok()) break;
    }
    NSMCERT_CASE_RETURN_IF_ERROR(reply.status());
    return ExpectEq("endpoint of a request after the failure", std::string("nse-a2"),
                    reply->network_service_endpoint_name());
  }

 private:
  DomainEndpoint* endpoint_ = nullptr;
  RequestSpec spec_;
  RequestResult result_;
};
NSMCERT_REGISTER_CASE(DeadEndpointFailsCleanly);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
