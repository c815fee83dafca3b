// SEL-003: label templates (spec §9.2, §14 C.29): a route {nodeName: "{{.nodeName}}"} is evaluated
// against the request's labels (nodeName added by the nsmgr's clientinfo), so a client on node-a
// always gets the NSE on node-a, never the one on node-b.
#include "conformance/cases/registry.h"
#include "conformance/cases/selection/selection_case.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class LabelTemplates : public SelectionCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "SEL-003";
    info.title = "A {{.nodeName}} template in a route selects the NSE on the client's node";
    info.level = Level::kMust;
    info.area = Area::kSelection;
    info.features = {"mechanism.kernel", "mechanism.vxlan", "selection.label-templates"};
    info.spec = "§5.5, §9.2, §14 C.29";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    NSMCERT_CASE_RETURN_IF_ERROR(
        RegisterService(context, "local", {MakeMatch({}, {{{"nodeName", "{{.nodeName}}"}}})}));
    NSMCERT_CASE_RETURN_IF_ERROR(
        StartEndpoint(Endpoint("nse-b", {"local"}, {}, "172.16.2.100/30")).status());
    NSMCERT_CASE_RETURN_IF_ERROR(
        StartEndpoint(Endpoint("nse-a", {"local"}, {}, "172.16.1.100/30")).status());
    for (const char* suffix : {"0", "1"}) {
      RequestSpec spec = KernelRequest("local", suffix);
      spec.interface_name = Cat("nsm-", suffix);
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto reply, RequestOk(spec));
      replies_.push_back(reply);
    }
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    for (const connection::Connection& reply : replies_) {
      context.Check(ExpectEq(Cat("endpoint of ", reply.id(),
                                 " (route nodeName={{.nodeName}}, "
                                 "client on node-a)"),
                             std::string("nse-a"), reply.network_service_endpoint_name()));
      context.Check(ExpectEq(Cat("path length of ", reply.id(), " (local)"), 4,
                             reply.path().path_segments_size()));
    }
    return absl::OkStatus();
  }

 private:
  std::vector<connection::Connection> replies_;
};
NSMCERT_REGISTER_CASE(LabelTemplates);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
