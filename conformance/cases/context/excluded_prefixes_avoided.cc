// CTX-001: excluded prefixes in the request's IP context are honoured by the endpoint's IPAM
// (spec §6, §14 D.34): with 172.16.1.96/31 excluded from a 172.16.1.96/29 pool the connection gets
// neither address, and the excluded prefixes travel to the NSE (they are still in the returned
// context).
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

bool InPrefix96(const std::string& ip) { return ip == "172.16.1.96" || ip == "172.16.1.97"; }

class ExcludedPrefixesAvoided : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "CTX-001";
    info.title = "IPAM avoids the excluded prefixes the request carries";
    info.level = Level::kMust;
    info.area = Area::kContext;
    info.features = {"mechanism.kernel"};
    info.spec = "§6, §14 D.34";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    nse.cidr = "172.16.1.96/29";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    spec_.excluded_prefixes = {"172.16.1.96/31"};
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const std::string src = FirstSrcIp(reply_);
    const std::string dst = FirstDstIp(reply_);
    context.Check(Expect(!src.empty() && !dst.empty(), Cat("src and dst addresses, observed src \"",
                                                           src, "\", dst \"", dst, "\"")));
    context.Check(Expect(
        !InPrefix96(src) && !InPrefix96(dst),
        Cat("addresses outside the excluded 172.16.1.96/31, observed src ", src, ", dst ", dst)));
    bool kept = false;
    for (const auto& prefix : reply_.context().ip_context().excluded_prefixes()) {
      kept = kept || prefix == "172.16.1.96/31";
    }
    context.Check(Expect(kept, "the returned ip_context.excluded_prefixes to keep 172.16.1.96/31"));
    return ExpectPing(ClientNetns(), dst);
  }

 private:
  RequestSpec spec_;
  connection::Connection reply_;
};
NSMCERT_REGISTER_CASE(ExcludedPrefixesAvoided);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
