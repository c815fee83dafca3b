// DP-KERNEL-003: Close removes the connection end to end (spec §5.4, §14 B.13): Close succeeds,
// the client's interface disappears, the NSE no longer answers, the nsmgr no longer holds the
// connection, and a new Request gets the released addresses again.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class KernelCloseRemoves : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-KERNEL-003";
    info.title = "Close removes the interface, the nsmgr's state and releases the addresses";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel"};
    info.spec = "§5.4, §14 B.13";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(reply_)));
    close_ = client().Close(reply_);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectEq("Close of the connection", std::string("OK"), DescribeStatus(close_)));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    context.Check(Expect(!iface.has_value(), Cat("interface ", kClientInterface,
                                                 " to be gone from the client namespace after "
                                                 "Close, observed it still there")));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(kNodeA));
    for (const auto& [key, conn] : held) {
      if (conn.path().path_segments_size() > 0 &&
          conn.path().path_segments(0).id() == spec_.connection_id) {
        context.Check(CaseFailure(Cat("the nsmgr's monitor still holds connection ", key,
                                      " of the closed client connection")));
      }
    }
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto ping,
                                  Ping(domain().NetnsName("nse-a"), FirstSrcIp(reply_), 2));
    context.Check(Expect(!ping.ok(), Cat("the client address ", FirstSrcIp(reply_),
                                         " to be unreachable from the NSE after Close")));
    // The addresses went back to the pool: a new connection gets the same pair.
    RequestSpec again = KernelRequest("icmp-responder", "1");
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto second, RequestOk(again));
    context.Check(ExpectEq("src address of a new connection after Close (released pair reused)",
                           FirstSrcIp(reply_), FirstSrcIp(second)));
    return absl::OkStatus();
  }

 private:
  RequestSpec spec_;
  connection::Connection reply_;
  grpc::Status close_;
};
NSMCERT_REGISTER_CASE(KernelCloseRemoves);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
