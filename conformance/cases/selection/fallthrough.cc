// SEL-002: source_selector + fallthrough (spec §9.2, §14 C.28): a client labelled app=a whose
// first match routes to x=1 (no such NSE) falls through to the next match (x=2) when the first
// has fallthrough set, and gets no endpoint when it has not.
#include "conformance/cases/registry.h"
#include "conformance/cases/selection/selection_case.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class Fallthrough : public SelectionCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "SEL-002";
    info.title = "fallthrough continues with the next match; without it no endpoint is chosen";
    info.level = Level::kMust;
    info.area = Area::kSelection;
    info.features = {"mechanism.kernel"};
    info.spec = "§9.2, §14 C.28";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    const auto matches = [](bool fallthrough) {
      return std::vector<registry::Match>{MakeMatch({{"app", "a"}}, {{{"x", "1"}}}, fallthrough),
                                          MakeMatch({}, {{{"x", "2"}}})};
    };
    NSMCERT_CASE_RETURN_IF_ERROR(RegisterService(context, "with-fallthrough", matches(true)));
    NSMCERT_CASE_RETURN_IF_ERROR(RegisterService(context, "without-fallthrough", matches(false)));
    NSMCERT_CASE_RETURN_IF_ERROR(
        StartEndpoint(Endpoint("nse-a", {"with-fallthrough", "without-fallthrough"}, {{"x", "2"}},
                               "172.16.1.100/30"))
            .status());
    RequestSpec with = KernelRequest("with-fallthrough", "with");
    with.labels = {{"app", "a"}};
    with_ = client().Request(MakeRequest(with));
    RequestSpec without = KernelRequest("without-fallthrough", "without");
    without.labels = {{"app", "a"}};
    without.interface_name = "nsm-2";
    NsmCallOptions options;
    options.deadline = absl::Seconds(5);
    without_ = client().Request(MakeRequest(without), options);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    if (!with_.ok()) {
      return CaseFailure(
          Cat("a client app=a on a service whose first match (no x=1 NSE) has "
              "fallthrough: expected the x=2 NSE, observed ",
              DescribeStatus(with_.status)));
    }
    context.Check(ExpectEq("endpoint after falling through", std::string("nse-a"),
                           with_.reply.network_service_endpoint_name()));
    context.Check(Expect(!without_.ok(),
                         Cat("a client app=a on a service whose first match (no x=1 NSE) has no "
                             "fallthrough: expected no endpoint (an error), observed OK with ",
                             without_.reply.network_service_endpoint_name())));
    return absl::OkStatus();
  }

 private:
  RequestResult with_;
  RequestResult without_;
};
NSMCERT_REGISTER_CASE(Fallthrough);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
