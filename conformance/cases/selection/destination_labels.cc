// SEL-001: endpoint selection by destination labels (spec §9.2, §14 C.26): with a match routing
// to color=blue, the connection goes to the blue NSE (and its address pool), never the green one.
#include "conformance/cases/registry.h"
#include "conformance/cases/selection/selection_case.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class DestinationLabels : public SelectionCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "SEL-001";
    info.title = "A match's destination_selector picks the NSE with those labels";
    info.level = Level::kMust;
    info.area = Area::kSelection;
    info.features = {"mechanism.kernel"};
    info.spec = "§9.1, §9.2, §14 C.26";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    NSMCERT_CASE_RETURN_IF_ERROR(
        RegisterService(context, "colors", {MakeMatch({}, {{{"color", "blue"}}})}));
    NSMCERT_CASE_RETURN_IF_ERROR(
        StartEndpoint(Endpoint("nse-a", {"colors"}, {{"color", "green"}}, "172.16.1.100/31"))
            .status());
    NSMCERT_CASE_RETURN_IF_ERROR(
        StartEndpoint(Endpoint("nse-a2", {"colors"}, {{"color", "blue"}}, "172.16.2.100/30"))
            .status());
    // Twice: a round robin over both NSEs would show the green one at least once.
    for (const char* suffix : {"0", "1"}) {
      RequestSpec spec = KernelRequest("colors", suffix);
      spec.interface_name = Cat("nsm-", suffix);
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto reply, RequestOk(spec));
      replies_.push_back(reply);
    }
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    for (const connection::Connection& reply : replies_) {
      context.Check(ExpectEq(Cat("endpoint of ", reply.id(), " (routes to color=blue)"),
                             std::string("nse-a2"), reply.network_service_endpoint_name()));
    }
    return ExpectPing(ClientNetns(), "172.16.2.100");
  }

 private:
  std::vector<connection::Connection> replies_;
};
NSMCERT_REGISTER_CASE(DestinationLabels);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
