// CTX-005: DNS configs (spec §6, §14 D.38): the NSE's DNS configuration reaches the client in
// dns_context.configs unchanged (servers and search domains).
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class DnsConfigs : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "CTX-005";
    info.title = "The NSE's DNS configs reach the client in dns_context";
    info.level = Level::kMust;
    info.area = Area::kContext;
    info.features = {"mechanism.kernel", "context.dns"};
    info.spec = "§6, §13.3 (NSM_DNS_CONFIGS), §14 D.38";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    nse.env["NSM_DNS_CONFIGS"] =
        R"([{"dns_server_ips":["172.16.1.100"],"search_domains":["my.coredns.service"]}])";
    NSMCERT_CASE_ASSIGN_OR_RETURN(DomainEndpoint * endpoint, StartEndpoint(nse));
    if (endpoint->role->implementation() == Implementation::kExternal) {
      return CaseSkip("the NSE is external: its DNS configuration is the manifest's");
    }
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(KernelRequest("icmp-responder")));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext&) override {
    const auto& configs = reply_.context().dns_context().configs();
    std::vector<std::string> observed;
    for (const auto& config : configs) {
      observed.push_back(Cat("servers [", Join(config.dns_server_ips(), ", "), "] domains [",
                             Join(config.search_domains(), ", "), "]"));
    }
    return ExpectEq("dns_context.configs",
                    std::string("[servers [172.16.1.100] domains [my.coredns.service]]"),
                    Cat("[", Join(observed, "; "), "]"));
  }

 private:
  connection::Connection reply_;
};
NSMCERT_REGISTER_CASE(DnsConfigs);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
