// SEL-004: forwarder selection (spec §9.3, §14 C.24): with a match whose metadata asks for
// forwarder label capability=true, the nsmgr hands the connection to the second forwarder of
// node-a that has it (path segment 2), never the default one; a service without such metadata
// requires p2p=true and may use either.
#include "conformance/cases/registry.h"
#include "conformance/cases/selection/selection_case.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

constexpr char kSpecial[] = "forwarder-special";

class ForwarderChoice : public SelectionCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "SEL-004";
    info.title = "Match metadata labels select the forwarder that has them";
    info.level = Level::kMust;
    info.area = Area::kSelection;
    info.features = {"mechanism.kernel"};
    info.spec = "§8.4, §9.3, §14 C.24";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    DomainNode& a = *domain().node(kNodeA);
    RoleStartOptions start;
    start.name = kSpecial;
    start.node = std::string(kNodeA);
    start.netns_path = a.node->netns.path;
    start.template_values = {{"registry_url", domain().registry_url()},
                             {"connect_to", a.nsmgr_url},
                             {"tunnel_ip", a.address}};
    start.reference_env = {{"NSM_CONNECT_TO", a.nsmgr_url},
                           {"NSM_TUNNEL_IP", a.address},
                           {"NODE_NAME", std::string(kNodeA)},
                           {"NSM_LABELS", "p2p:true,capability:true"}};
    NSMCERT_CASE_ASSIGN_OR_RETURN(special_, context.roles().Start(Role::kForwarder, start));
    if (special_->implementation() == Implementation::kExternal) {
      return CaseSkip(
          "the forwarder is external: its labels are the manifest's, so the suite "
          "cannot start one with capability=true");
    }
    NSMCERT_CASE_RETURN_IF_ERROR(
        RegisterService(context, "special", {MakeMatch({}, {}, false, {{"capability", "true"}})}));
    NSMCERT_CASE_RETURN_IF_ERROR(
        StartEndpoint(Endpoint("nse-a", {"special"}, {}, "172.16.1.100/30")).status());
    // The forwarder registers in the background: retry until it is found.
    const absl::Time until = absl::Now() + absl::Seconds(15);
    RequestSpec spec = KernelRequest("special");
    NsmCallOptions options;
    options.deadline = absl::Seconds(3);
    do {
      result_ = client().Request(MakeRequest(spec), options);
      if (result_.ok()) break;
      absl::SleepFor(absl::Milliseconds(300));
    } while (absl::Now() < until);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext&) override {
    if (!result_.ok()) {
      return CaseFailure(
          Cat("a Request for a service whose match asks for forwarder label "
              "capability=true (forwarder ",
              kSpecial, " has it): expected OK, observed ", DescribeStatus(result_.status)));
    }
    const auto names = SegmentNames(result_.reply);
    return ExpectEq(Cat("path segment 2 (the forwarder) of ", DescribeSegments(result_.reply)),
                    std::string(kSpecial), names.size() > 2 ? names[2] : std::string("(none)"));
  }

 private:
  std::unique_ptr<RunningRole> special_;
  RequestResult result_;
};
NSMCERT_REGISTER_CASE(ForwarderChoice);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
