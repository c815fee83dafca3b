// DP-KERNEL-002: a refresh (the returned connection sent again) keeps the connection as it is
// (spec §5.1, §14 B.12): the same segment names and ids, the same addresses, the same interface
// (same ifindex, no flap) and the data path keeps working.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class KernelRefreshKeepsPath : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-KERNEL-002";
    info.title = "Refresh keeps path ids, addresses and the interface";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel"};
    info.spec = "§5.1, §5.4, §14 B.12";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(first_, RequestOk(spec_));
    NSMCERT_CASE_ASSIGN_OR_RETURN(before_, ReadInterface(ClientNetns(), kClientInterface));
    RequestResult refreshed = client().Request(MakeRefresh(first_, spec_));
    if (!refreshed.ok()) {
      return CaseFailure(Cat("refresh of connection ", spec_.connection_id,
                             " (the returned connection sent back): expected OK, observed ",
                             DescribeStatus(refreshed.status)));
    }
    second_ = refreshed.reply;
    NSMCERT_CASE_ASSIGN_OR_RETURN(after_, ReadInterface(ClientNetns(), kClientInterface));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    context.Check(
        ExpectEq("path after refresh", DescribeSegments(first_), DescribeSegments(second_)));
    const int n = std::min(first_.path().path_segments_size(), second_.path().path_segments_size());
    for (int i = 0; i < n; ++i) {
      context.Check(ExpectEq(Cat("path segment ", i, " (", first_.path().path_segments(i).name(),
                                 ") id after refresh"),
                             first_.path().path_segments(i).id(),
                             second_.path().path_segments(i).id()));
    }
    context.Check(ExpectEq("network_service_endpoint_name after refresh",
                           first_.network_service_endpoint_name(),
                           second_.network_service_endpoint_name()));
    context.Check(ExpectEq("ip_context after refresh",
                           first_.context().ip_context().ShortDebugString(),
                           second_.context().ip_context().ShortDebugString()));
    if (!before_.has_value() || !after_.has_value()) {
      return CaseFailure(Cat("interface ", kClientInterface,
                             ": expected before and after the "
                             "refresh, observed ",
                             before_.has_value() ? "it gone after" : "none before"));
    }
    context.Check(ExpectEq(Cat("ifindex of ", kClientInterface, " across the refresh (no flap)"),
                           before_->ifindex, after_->ifindex));
    return ExpectPing(ClientNetns(), FirstDstIp(second_));
  }

 private:
  RequestSpec spec_;
  connection::Connection first_;
  connection::Connection second_;
  std::optional<InterfaceState> before_;
  std::optional<InterfaceState> after_;
};
NSMCERT_REGISTER_CASE(KernelRefreshKeepsPath);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
