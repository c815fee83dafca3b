// DP-VXLAN-001: a remote connection over VXLAN (spec §4, §14 B.14): the client gets 6 path
// segments [client, nsmgr-a, forwarder-a, nsmgr-b, forwarder-b, NSE]; the hop between the nodes
// uses a VXLAN mechanism (as the NSE node's nsmgr reports it on its monitor) whose VNI follows the
// parity rule and is the one both nodes programmed; ICMP crosses, and the underlay capture shows
// UDP/4789 between the tunnel addresses carrying that VNI in both directions with the ICMP inside,
// while the client's interface sees plain ICMP.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class VxlanRemoteConnects : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-VXLAN-001";
    info.title = "Remote VXLAN connection: 6 segments, VNI announced = VNI on the wire, ICMP";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel", "mechanism.vxlan"};
    info.spec = "§4, §5.1, §14 B.14";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    EndpointOptions nse;
    nse.workload = "nse-b";
    NSMCERT_CASE_ASSIGN_OR_RETURN(endpoint_, StartEndpoint(nse));
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        underlay_, StartCapture(context, domain().NetnsName(kNodeA), "ul0", "udp port 4789",
                                "underlay-node-a.pcap", "VXLAN on node-a's underlay interface"));
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        client_side_, StartCapture(context, ClientNetns(), kClientInterface, "",
                                   "client-interface.pcap", "nsm-1 in the client namespace"));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    DomainNode& a = *domain().node(kNodeA);
    DomainNode& b = *domain().node(kNodeB);
    for (absl::Status& check :
         CheckReturnedPath(reply_, spec_.connection_id,
                           {spec_.client_name, a.nsmgr->name(), a.forwarder->name(),
                            b.nsmgr->name(), b.forwarder->name(), endpoint_->options.name})) {
      context.Check(std::move(check));
    }
    // The remote mechanism, as the NSE node's nsmgr holds the connection that came from node-a.
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(kNodeB));
    const connection::Connection* remote = nullptr;
    for (const auto& [key, conn] : held) {
      if (conn.path().path_segments_size() > 0 &&
          conn.path().path_segments(0).id() == spec_.connection_id) {
        remote = &conn;
      }
    }
    if (remote == nullptr) {
      return CaseFailure(Cat("the nsmgr of node-b: expected to hold the connection of client ",
                             spec_.connection_id, " on its monitor, observed ", held.size(),
                             " other connection(s)"));
    }
    const connection::Mechanism& mechanism = remote->mechanism();
    context.Check(ExpectEq("mechanism type between the nodes (node-b nsmgr's view)",
                           std::string(api::mechanism::kVxlan), mechanism.type()));
    context.Check(ExpectEq("mechanism cls between the nodes", std::string(api::cls::kRemote),
                           mechanism.cls()));
    const auto param = [&](std::string_view key) {
      const auto it = mechanism.parameters().find(std::string(key));
      return it == mechanism.parameters().end() ? std::string("(absent)") : it->second;
    };
    context.Check(ExpectEq("VXLAN src_ip", a.address, param(api::param::kSrcIp)));
    context.Check(ExpectEq("VXLAN dst_ip", b.address, param(api::param::kDstIp)));
    const std::string vni_text = param(api::param::kVni);
    char* end = nullptr;
    const unsigned long vni = std::strtoul(vni_text.c_str(), &end, 10);
    if (vni_text.empty() || *end != '\0' || vni == 0 || vni > 0xFFFFFF) {
      return CaseFailure(Cat("VXLAN vni: expected a 24-bit number, observed \"", vni_text, "\""));
    }
    // Parity (spec §4): src 10.100.0.1 <= dst 10.100.0.2 byte-wise, so even.
    context.Check(ExpectEq(Cat("VNI ", vni, " parity (even when src_ip <= dst_ip)"), 0ul, vni % 2));

    // Both ends programmed the announced VNI.
    for (DomainNode* node : {&a, &b}) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto links,
                                    ReadInterfaces(domain().NetnsName(node->node->name)));
      std::vector<std::string> vnis;
      for (const InterfaceState& link : links) {
        if (link.kind == "vxlan") vnis.push_back(std::to_string(link.vxlan_id));
      }
      context.Check(ExpectEq(Cat("VNIs of the VXLAN devices in ", node->node->name,
                                 " (the announced VNI is ", vni, ")"),
                             Cat("[", vni, "]"), Cat("[", Join(vnis, ", "), "]")));
    }
    const std::uint32_t mtu = reply_.context().mtu();
    context.Check(Expect(mtu != 0 && mtu <= 1450,
                         Cat("connection context MTU clamped to the tunnel (<= 1450 on a 1500 "
                             "underlay), observed ",
                             mtu)));

    underlay_.verifier->Flush();
    client_side_.verifier->Flush();
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(reply_)));
    pcap::PacketVerifier& verify = *underlay_.verifier;
    const auto wire = [&](absl::Status status) {
      if (status.ok()) return status;
      return CaseFailure(Cat("underlay capture on node-a: ", std::string(status.message())));
    };
    NSMCERT_CASE_RETURN_IF_ERROR(
        wire(verify.ExpectPacket(pcap::PacketTemplate()
                                     .With("ip.src", a.address)
                                     .With("ip.dst", b.address)
                                     .With("udp.dstport", 4789u)
                                     .With("vxlan.vni", static_cast<uint64_t>(vni))
                                     .With("inner.ip.src", FirstSrcIp(reply_))
                                     .With("inner.ip.dst", FirstDstIp(reply_))
                                     .With("inner.icmp.type", 8u),
                                 absl::Seconds(2))));
    NSMCERT_CASE_RETURN_IF_ERROR(
        wire(verify.ExpectPacket(pcap::PacketTemplate()
                                     .With("ip.src", b.address)
                                     .With("ip.dst", a.address)
                                     .With("udp.dstport", 4789u)
                                     .With("vxlan.vni", static_cast<uint64_t>(vni))
                                     .With("inner.ip.src", FirstDstIp(reply_))
                                     .With("inner.ip.dst", FirstSrcIp(reply_))
                                     .With("inner.icmp.type", 0u),
                                 absl::Seconds(2))));
    // In the client's namespace the same exchange is plain ICMP: the tunnel is invisible there.
    const auto inside = [&](absl::Status status) {
      if (status.ok()) return status;
      return CaseFailure(
          Cat("capture on nsm-1 in the client namespace: ", std::string(status.message())));
    };
    NSMCERT_CASE_RETURN_IF_ERROR(
        inside(client_side_.verifier->ExpectPacket(pcap::PacketTemplate()
                                                       .With("ip.src", FirstSrcIp(reply_))
                                                       .With("ip.dst", FirstDstIp(reply_))
                                                       .With("icmp.type", 8u)
                                                       .Lacks("udp.dstport"),
                                                   absl::Seconds(2))));
    NSMCERT_CASE_RETURN_IF_ERROR(
        inside(client_side_.verifier->ExpectPacket(pcap::PacketTemplate()
                                                       .With("ip.src", FirstDstIp(reply_))
                                                       .With("ip.dst", FirstSrcIp(reply_))
                                                       .With("icmp.type", 0u),
                                                   absl::Seconds(2))));
    return absl::OkStatus();
  }

 private:
  DomainEndpoint* endpoint_ = nullptr;
  RequestSpec spec_;
  connection::Connection reply_;
  CaseCapture underlay_;
  CaseCapture client_side_;
};
NSMCERT_REGISTER_CASE(VxlanRemoteConnects);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
