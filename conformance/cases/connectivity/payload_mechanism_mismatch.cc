// DP-MECH-001: payload and remote mechanism must agree (spec §4, §14 B.18): VXLAN carries only
// ETHERNET payloads, IP payloads go over WIREGUARD or IPSEC. A remote Request for a network service
// of payload IP is therefore either refused cleanly (no interface left in the client namespace, no
// connection on the nsmgr) by an implementation without an IP-capable remote mechanism, or
// established over one of those; never over VXLAN.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class PayloadMechanismMismatch : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-MECH-001";
    info.title =
        "An IP-payload service across nodes is refused or uses WIREGUARD/IPSEC, never VXLAN";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel"};
    info.spec = "§4 (payload -> remote mechanism), §14 B.18";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-b";
    nse.services = {"ip-service"};
    nse.payload = "IP";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("ip-service");
    NsmCallOptions options;
    options.deadline = absl::Seconds(10);
    result_ = client().Request(MakeRequest(spec_), options);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    if (result_.ok()) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(kNodeB));
      for (const auto& [key, conn] : held) {
        if (conn.path().path_segments_size() == 0 ||
            conn.path().path_segments(0).id() != spec_.connection_id) {
          continue;
        }
        const std::string& type = conn.mechanism().type();
        return Expect(type == api::mechanism::kWireguard || type == api::mechanism::kIpsec,
                      Cat("an IP-payload connection between nodes over WIREGUARD or IPSEC, "
                          "observed mechanism ",
                          type.empty() ? std::string("(none)") : type));
      }
      return CaseFailure(
          Cat("the Request succeeded but the nsmgr of node-b does not hold the "
              "connection ",
              spec_.connection_id, " on its monitor"));
    }
    context.log().Write(Cat("refused: ", DescribeStatus(result_.status)));
    context.Check(Expect(!result_.status.error_message().empty(),
                         "the refusal to say why (an empty error message)"));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    context.Check(Expect(!iface.has_value(), Cat("no interface ", kClientInterface,
                                                 " after the refused Request, observed one")));
    for (std::string_view node : {kNodeA, kNodeB}) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(node));
      context.Check(ExpectEq(Cat("connections the nsmgr of ", node, " holds after the refusal"), 0u,
                             held.size()));
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto links, ReadInterfaces(domain().NetnsName(node)));
      for (const InterfaceState& link : links) {
        context.Check(Expect(link.kind != "vxlan",
                             Cat("no VXLAN device left in ", node, ", observed ", link.name)));
      }
    }
    return absl::OkStatus();
  }

 private:
  RequestSpec spec_;
  RequestResult result_;
};
NSMCERT_REGISTER_CASE(PayloadMechanismMismatch);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
