// DP-VXLAN-002: a remote connection is refreshed and then closed (spec §4, §5.1, §14 B.12-B.14):
// the refresh keeps the 6 segment ids, the addresses and the VNI (the VXLAN devices on both nodes
// are the same devices, same ifindex and VNI); Close removes the client's interface and the VXLAN
// devices on both nodes, and neither nsmgr holds the connection any more.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

// "name/ifindex/vni" of every VXLAN device of a namespace.
absl::StatusOr<std::vector<std::string>> VxlanDevices(std::string_view netns) {
  auto links = ReadInterfaces(netns);
  if (!links.ok()) return links.status();
  std::vector<std::string> devices;
  for (const InterfaceState& link : *links) {
    if (link.kind == "vxlan")
      devices.push_back(Cat(link.name, "/", link.ifindex, "/", link.vxlan_id));
  }
  return devices;
}

class VxlanRefreshAndClose : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "DP-VXLAN-002";
    info.title =
        "Remote refresh keeps ids, addresses and tunnel; Close removes the tunnel on both nodes";
    info.level = Level::kMust;
    info.area = Area::kConnectivity;
    info.features = {"mechanism.kernel", "mechanism.vxlan"};
    info.spec = "§4, §5.1, §5.4, §14 B.12-B.14";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-b";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(first_, RequestOk(spec_));
    for (std::string_view node : {kNodeA, kNodeB}) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(tunnels_before_[std::string(node)],
                                    VxlanDevices(domain().NetnsName(node)));
    }
    RequestResult refreshed = client().Request(MakeRefresh(first_, spec_));
    if (!refreshed.ok()) {
      return CaseFailure(Cat("refresh of the remote connection: expected OK, observed ",
                             DescribeStatus(refreshed.status)));
    }
    second_ = refreshed.reply;
    for (std::string_view node : {kNodeA, kNodeB}) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(tunnels_after_refresh_[std::string(node)],
                                    VxlanDevices(domain().NetnsName(node)));
    }
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectPing(ClientNetns(), FirstDstIp(second_)));
    close_ = client().Close(second_);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    context.Check(
        ExpectEq("path after refresh", DescribeSegments(first_), DescribeSegments(second_)));
    const int n = std::min(first_.path().path_segments_size(), second_.path().path_segments_size());
    for (int i = 0; i < n; ++i) {
      context.Check(ExpectEq(Cat("path segment ", i, " (", first_.path().path_segments(i).name(),
                                 ") id after refresh"),
                             first_.path().path_segments(i).id(),
                             second_.path().path_segments(i).id()));
    }
    context.Check(ExpectEq("addresses after refresh",
                           Cat(FirstSrcIp(first_), " -> ", FirstDstIp(first_)),
                           Cat(FirstSrcIp(second_), " -> ", FirstDstIp(second_))));
    for (std::string_view node : {kNodeA, kNodeB}) {
      const std::string key(node);
      context.Check(Expect(tunnels_before_[key].size() == 1,
                           Cat("one VXLAN device in ", node, " for the connection, observed [",
                               Join(tunnels_before_[key], ", "), "]")));
      context.Check(ExpectEq(Cat("VXLAN devices (name/ifindex/VNI) in ", node, " after refresh"),
                             Cat("[", Join(tunnels_before_[key], ", "), "]"),
                             Cat("[", Join(tunnels_after_refresh_[key], ", "), "]")));
    }
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectEq("Close of the remote connection", std::string("OK"), DescribeStatus(close_)));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    context.Check(Expect(!iface.has_value(),
                         Cat("interface ", kClientInterface, " gone after Close, observed it")));
    // The far end closes after the near one returned: give it a moment.
    const absl::Time until = absl::Now() + absl::Seconds(5);
    std::map<std::string, std::vector<std::string>> left;
    do {
      left.clear();
      for (std::string_view node : {kNodeA, kNodeB}) {
        NSMCERT_CASE_ASSIGN_OR_RETURN(auto devices, VxlanDevices(domain().NetnsName(node)));
        if (!devices.empty()) left[std::string(node)] = devices;
      }
      if (left.empty()) break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < until);
    for (const auto& [node, devices] : left) {
      context.Check(CaseFailure(Cat("VXLAN devices in ", node,
                                    " after Close: expected none, "
                                    "observed [",
                                    Join(devices, ", "), "]")));
    }
    for (std::string_view node : {kNodeA, kNodeB}) {
      NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(node));
      context.Check(
          ExpectEq(Cat("connections the nsmgr of ", node, " holds after Close"), 0u, held.size()));
    }
    return absl::OkStatus();
  }

 private:
  RequestSpec spec_;
  connection::Connection first_;
  connection::Connection second_;
  std::map<std::string, std::vector<std::string>> tunnels_before_;
  std::map<std::string, std::vector<std::string>> tunnels_after_refresh_;
  grpc::Status close_;
};
NSMCERT_REGISTER_CASE(VxlanRefreshAndClose);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
