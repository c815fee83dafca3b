// DP-KERNEL-001: a local Kernel2Kernel connection (spec §14 B.11): the client gets 4 path segments
// [client, nsmgr, forwarder, NSE] with tokens and expiries, a KERNEL mechanism with the interface
// name it asked for, and a point-to-point IP context; the interface exists in its namespace with
// the src address, ICMP reaches the NSE and back, and the capture on that interface shows plain
// ICMP (no encapsulation).
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class KernelLocalConnects : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-KERNEL-001";
    info.title = "Local KERNEL connection: 4-segment path, IP context, interface and ICMP";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel"};
    info.spec = "§4, §5.1, §6, §14 B.11, §17";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_ASSIGN_OR_RETURN(endpoint_, StartEndpoint(nse));
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        capture_, StartCapture(context, ClientNetns(), kClientInterface, "icmp",
                               "client-interface.pcap", "ICMP on nsm-1 in the client namespace"));
    capture_.verifier->Flush();
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const std::string nse = endpoint_->options.name;
    for (absl::Status& check : CheckReturnedPath(reply_, spec_.connection_id,
                                                 {spec_.client_name, domain().nsmgr(kNodeA)->name(),
                                                  domain().forwarder(kNodeA)->name(), nse})) {
      context.Check(std::move(check));
    }
    context.Check(
        ExpectEq("network_service_endpoint_name", nse, reply_.network_service_endpoint_name()));
    context.Check(
        ExpectEq("mechanism.cls", std::string(api::cls::kLocal), reply_.mechanism().cls()));
    context.Check(ExpectEq("mechanism.type", std::string(api::mechanism::kKernel),
                           reply_.mechanism().type()));
    const auto& params = reply_.mechanism().parameters();
    const auto name = params.find(std::string(api::param::kName));
    context.Check(ExpectEq("mechanism parameter name", std::string(kClientInterface),
                           name == params.end() ? std::string("(absent)") : name->second));
    const auto& ip = reply_.context().ip_context();
    // The reference NSE's pool 172.16.1.100/31: NSE .100, client .101 (spec §6).
    context.Check(ExpectEq("ip_context.src_ip_addrs[0]", std::string("172.16.1.101/32"),
                           ip.src_ip_addrs().empty() ? std::string("(none)") : ip.src_ip_addrs(0)));
    context.Check(ExpectEq("ip_context.dst_ip_addrs[0]", std::string("172.16.1.100/32"),
                           ip.dst_ip_addrs().empty() ? std::string("(none)") : ip.dst_ip_addrs(0)));
    bool route = false;
    for (const auto& r : ip.src_routes()) route = route || r.prefix() == "172.16.1.100/32";
    context.Check(Expect(route, "ip_context.src_routes to hold 172.16.1.100/32 (the NSE address)"));
    context.Check(
        ExpectEq("state", std::string("UP"), std::string(connection::State_Name(reply_.state()))));

    // Data plane: the interface, then ICMP both ways, then the capture.
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    if (!iface.has_value()) {
      return CaseFailure(Cat("interface ", kClientInterface,
                             " in the client namespace: expected "
                             "after a successful Request, observed none"));
    }
    context.Check(Expect(iface->up, Cat("interface ", kClientInterface, " to be up")));
    context.Check(ExpectEq(Cat("addresses of ", kClientInterface), std::string("[172.16.1.101/32]"),
                           Cat("[", Join(iface->cidrs, ", "), "]")));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), "172.16.1.100"));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(domain().NetnsName("nse-a"), "172.16.1.101"));
    pcap::PacketVerifier& verify = *capture_.verifier;
    NSMCERT_CASE_RETURN_IF_ERROR(Captured(verify.ExpectPacket(pcap::PacketTemplate()
                                                                  .With("ip.src", "172.16.1.101")
                                                                  .With("ip.dst", "172.16.1.100")
                                                                  .With("icmp.type", 8u)
                                                                  .Lacks("vxlan.vni"),
                                                              absl::Seconds(2))));
    NSMCERT_CASE_RETURN_IF_ERROR(Captured(verify.ExpectPacket(pcap::PacketTemplate()
                                                                  .With("ip.src", "172.16.1.100")
                                                                  .With("ip.dst", "172.16.1.101")
                                                                  .With("icmp.type", 0u)
                                                                  .Lacks("vxlan.vni"),
                                                              absl::Seconds(2))));
    return absl::OkStatus();
  }

 private:
  static absl::Status Captured(absl::Status status) {
    if (status.ok()) return status;
    return CaseFailure(Cat("capture on ", kClientInterface,
                           " in the client namespace: ", std::string(status.message())));
  }

  DomainEndpoint* endpoint_ = nullptr;
  RequestSpec spec_;
  connection::Connection reply_;
  CaseCapture capture_;
};
NSMCERT_REGISTER_CASE(KernelLocalConnects);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
