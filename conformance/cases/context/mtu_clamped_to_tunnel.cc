// CTX-003: MTU clamp (spec §4, §14 D.40): a remote (VXLAN) connection requested with context MTU
// 9000 comes back with an MTU no larger than the tunnel's (1500 underlay - 50 VXLAN overhead), and
// the client's interface carries that MTU.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class MtuClampedToTunnel : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "CTX-003";
    info.title = "A requested MTU above the tunnel's is clamped; the interface carries it";
    info.level = Level::kMust;
    info.area = Area::kContext;
    info.features = {"mechanism.kernel", "mechanism.vxlan"};
    info.spec = "§4, §14 D.40";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-b";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    spec_.mtu = 9000;
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const std::uint32_t mtu = reply_.context().mtu();
    NSMCERT_CASE_RETURN_IF_ERROR(Expect(
        mtu != 0 && mtu <= 1450,
        Cat("context MTU of a VXLAN connection requested with MTU 9000: expected at most 1450 "
            "(1500 underlay - 50), observed ",
            mtu)));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    if (!iface.has_value()) {
      return CaseFailure(Cat("interface ", kClientInterface, ": expected, observed none"));
    }
    context.Check(ExpectEq(Cat("MTU of ", kClientInterface, " (the context MTU)"),
                           static_cast<int>(mtu), iface->mtu));
    // A full-size packet crosses the tunnel without fragmentation (DF set).
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        auto ping, RunInNetns(ClientNetns(), {"ping", "-n", "-c", "2", "-W", "2", "-M", "do", "-s",
                                              std::to_string(mtu - 28), FirstDstIp(reply_)}));
    return Expect(
        ping.exit_code == 0,
        Cat("a ", mtu, "-byte ping with DF set to cross the tunnel, observed:\n", ping.output));
  }

 private:
  RequestSpec spec_;
  connection::Connection reply_;
};
NSMCERT_REGISTER_CASE(MtuClampedToTunnel);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
