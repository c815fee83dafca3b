// REG-009: a NetworkService registered without a payload is stored and returned with payload
// "IP", as registry-memory's setpayload does (spec §3.6, §8.1, §14 A.6).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::registry_cases {
namespace {

class NsPayloadDefaultsToIp : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-009";
    info.title = "A NetworkService registered without payload gets payload IP";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§3.6, §8.1, §14 A.6";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    const auto ns = MakeNs(Name("service"));
    registered_ = client().RegisterNs(ns);
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Register network service ", ns.name()), registered_.status));
    found_ = client().FindNs(MakeNs(ns.name()));
    return ExpectRpcOk(Cat("NetworkService Find{name: \"", ns.name(), "\"}"), found_.status);
  }

  absl::Status Assert(CaseContext& context) override {
    const std::string ip(api::payload::kIp);
    context.Check(ExpectEq("Register reply payload", ip, registered_.reply.payload()));
    if (found_.responses.size() != 1) {
      return CaseFailure(Cat("NetworkService Find{name: \"", Name("service"),
                             "\"} should return the one registered service; it returned ",
                             DescribeNames(NamesOf(found_.responses))));
    }
    context.Check(ExpectEq("stored payload (Find result)", ip,
                           found_.responses[0].network_service().payload()));
    return absl::OkStatus();
  }

 private:
  UnaryResult<registry::NetworkService> registered_;
  FindResult<registry::NetworkServiceResponse> found_;
};
NSMCERT_REGISTER_CASE(NsPayloadDefaultsToIp);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
