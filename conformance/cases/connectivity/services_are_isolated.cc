// DP-KERNEL-005: two connections of one client to two services are separate data paths (spec §6,
// DESIGN "no leak across services"): each NSE's namespace holds its end with the dst address and
// a route back to its client address; traffic for the second service never appears on the first
// service's interface, and each NSE sees only its own client.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class ServicesAreIsolated : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-KERNEL-005";
    info.title = "Two services, two data paths: NSE-side addresses and routes, no cross traffic";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel"};
    info.spec = "§6 (src/dst sides, routes), §14 B.11, B.31";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    EndpointOptions red;
    red.workload = "nse-a";
    red.services = {"red"};
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(red).status());
    EndpointOptions blue;
    blue.workload = "nse-a2";
    blue.services = {"blue"};
    blue.cidr = "172.16.2.100/31";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(blue).status());
    RequestSpec red_spec = KernelRequest("red", "red");
    RequestSpec blue_spec = KernelRequest("blue", "blue");
    blue_spec.interface_name = "nsm-2";
    NSMCERT_CASE_ASSIGN_OR_RETURN(red_, RequestOk(red_spec));
    NSMCERT_CASE_ASSIGN_OR_RETURN(blue_, RequestOk(blue_spec));
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        red_wire_, StartCapture(context, ClientNetns(), "nsm-1", "icmp", "red-interface.pcap",
                                "ICMP on nsm-1 (service red) in the client namespace"));
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        red_nse_, StartCapture(context, domain().NetnsName("nse-a"), "any", "icmp", "red-nse.pcap",
                               "ICMP in the red NSE's namespace"));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    // The NSE side of each connection: dst address on an interface, a route to the client.
    for (const auto& [workload, conn] :
         {std::pair<std::string, const connection::Connection*>{"nse-a", &red_},
          std::pair<std::string, const connection::Connection*>{"nse-a2", &blue_}}) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto links, ReadInterfaces(domain().NetnsName(workload)));
      const std::string dst_cidr = conn->context().ip_context().dst_ip_addrs().empty()
                                       ? std::string()
                                       : conn->context().ip_context().dst_ip_addrs(0);
      bool found = false;
      for (const InterfaceState& link : links) {
        for (const std::string& cidr : link.cidrs) found = found || cidr == dst_cidr;
      }
      context.Check(Expect(found, Cat("an interface with the connection's dst address ", dst_cidr,
                                      " in the namespace of ", workload)));
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto routes, ReadRoutes(domain().NetnsName(workload)));
      bool route = false;
      for (const std::string& line : routes)
        route = route || line.starts_with(FirstSrcIp(*conn) + " ");
      context.Check(Expect(route, Cat("a route to the client address ", FirstSrcIp(*conn), " in ",
                                      workload, ", observed [", Join(routes, "; "), "]")));
    }
    red_wire_.verifier->Flush();
    red_nse_.verifier->Flush();
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(blue_)));
    const auto leak = [&](absl::Status status, std::string_view where) {
      if (status.ok()) return status;
      return CaseFailure(
          Cat("traffic of service blue on ", where, ": ", std::string(status.message())));
    };
    NSMCERT_CASE_RETURN_IF_ERROR(leak(red_wire_.verifier->ExpectNoPacket(
                                          pcap::PacketTemplate().With("ip.dst", FirstDstIp(blue_))),
                                      "nsm-1 (service red)"));
    NSMCERT_CASE_RETURN_IF_ERROR(leak(
        red_nse_.verifier->ExpectNoPacket(pcap::PacketTemplate().With("ip.dst", FirstDstIp(blue_))),
        "the red NSE's namespace"));
    // And the red path still carries its own traffic.
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(red_)));
    const absl::Status own = red_wire_.verifier->ExpectPacket(
        pcap::PacketTemplate().With("ip.dst", FirstDstIp(red_)).With("icmp.type", 8u),
        absl::Seconds(2));
    if (!own.ok()) {
      return CaseFailure(Cat("service red's own ICMP on nsm-1: ", std::string(own.message())));
    }
    const absl::Status at_nse = red_nse_.verifier->ExpectPacket(
        pcap::PacketTemplate().With("ip.dst", FirstDstIp(red_)).With("icmp.type", 8u),
        absl::Seconds(2));
    if (!at_nse.ok()) {
      return CaseFailure(Cat("service red's own ICMP in the red NSE's namespace: ",
                             std::string(at_nse.message())));
    }
    return absl::OkStatus();
  }

 private:
  connection::Connection red_;
  connection::Connection blue_;
  CaseCapture red_wire_;
  CaseCapture red_nse_;
};
NSMCERT_REGISTER_CASE(ServicesAreIsolated);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
