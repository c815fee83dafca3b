// SEL-005: round robin over equal NSEs (spec §9.1 step 4, §14 G.67): 6 connections with distinct
// ids over 2 NSEs of one service (no matches) use both NSEs, 3 each.
#include "conformance/cases/registry.h"
#include "conformance/cases/selection/selection_case.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class RoundRobin : public SelectionCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "SEL-005";
    info.title = "New connections are spread round-robin over equal NSEs";
    info.level = Level::kShould;
    info.area = Area::kSelection;
    info.features = {"mechanism.kernel"};
    info.spec = "§9.1, §14 G.67";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions first;
    first.workload = "nse-a";
    first.cidr = "172.16.1.96/28";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(first).status());
    EndpointOptions second;
    second.workload = "nse-a2";
    second.cidr = "172.16.2.96/28";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(second).status());
    for (int i = 0; i < 6; ++i) {
      RequestSpec spec = KernelRequest("icmp-responder", std::to_string(i));
      spec.interface_name = Cat("nsm-", i);
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto reply, RequestOk(spec));
      ++count_[reply.network_service_endpoint_name()];
    }
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext&) override {
    std::vector<std::string> observed;
    for (const auto& [name, n] : count_) observed.push_back(Cat(name, "=", n));
    return ExpectEq("connections per NSE over 6 requests", std::string("[nse-a=3, nse-a2=3]"),
                    Cat("[", Join(observed, ", "), "]"));
  }

 private:
  std::map<std::string, int> count_;
};
NSMCERT_REGISTER_CASE(RoundRobin);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
