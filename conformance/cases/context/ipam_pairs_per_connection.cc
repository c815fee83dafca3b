// CTX-002: point-to-point IPAM gives every connection its own address pair from the NSE's pool
// (spec §6): two connections to one NSE on 172.16.1.100/30 get four distinct addresses as /32s,
// with a src route to their own dst, and both pairs answer.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class IpamPairsPerConnection : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "CTX-002";
    info.title = "IPAM: each connection gets its own /32 pair from the pool, with routes";
    info.level = Level::kMust;
    info.area = Area::kContext;
    info.features = {"mechanism.kernel"};
    info.spec = "§6, §14 D.39";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    nse.cidr = "172.16.1.100/30";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    first_spec_ = KernelRequest("icmp-responder", "0");
    second_spec_ = KernelRequest("icmp-responder", "1");
    second_spec_.interface_name = "nsm-2";
    NSMCERT_CASE_ASSIGN_OR_RETURN(first_, RequestOk(first_spec_));
    NSMCERT_CASE_ASSIGN_OR_RETURN(second_, RequestOk(second_spec_));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    std::set<std::string> addresses;
    for (const connection::Connection* conn : {&first_, &second_}) {
      const auto& ip = conn->context().ip_context();
      if (ip.src_ip_addrs().empty() || ip.dst_ip_addrs().empty()) {
        return CaseFailure(Cat("connection ", conn->id(),
                               ": expected src and dst addresses, observed ",
                               ip.ShortDebugString()));
      }
      for (const std::string& cidr : {ip.src_ip_addrs(0), ip.dst_ip_addrs(0)}) {
        context.Check(
            Expect(cidr.ends_with("/32"), Cat("a /32 address (point-to-point), observed ", cidr)));
        addresses.insert(cidr.substr(0, cidr.find('/')));
      }
      bool route = false;
      for (const auto& r : ip.src_routes()) route = route || r.prefix() == ip.dst_ip_addrs(0);
      context.Check(Expect(
          route, Cat("connection ", conn->id(), ": a src route to its dst ", ip.dst_ip_addrs(0))));
    }
    context.Check(ExpectEq("distinct addresses over both connections", 4u, addresses.size()));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(first_)));
    return ExpectPing(ClientNetns(), FirstDstIp(second_));
  }

 private:
  RequestSpec first_spec_;
  RequestSpec second_spec_;
  connection::Connection first_;
  connection::Connection second_;
};
NSMCERT_REGISTER_CASE(IpamPairsPerConnection);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
