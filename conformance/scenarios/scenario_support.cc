#include "conformance/scenarios/scenario_support.h"

#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "conformance/cases/text.h"
#include "pcap/capture.h"
#include "pcap/packet_template.h"
#include "pcap/packet_verifier.h"

namespace nsmcert::conformance::scenarios {
namespace {

constexpr absl::Duration kPacketTimeout = absl::Seconds(3);

// Starts a capture in the namespace of `element`, filed as evidence.
absl::StatusOr<std::unique_ptr<pcap::Capture>> StartCapture(Domain& domain,
                                                            std::string_view element,
                                                            std::string_view interface,
                                                            std::string_view filter,
                                                            std::string_view evidence_name) {
  auto path = domain.LogDir() / Cat(evidence_name, ".pcap");
  pcap::CaptureOptions options;
  options.interface = std::string(interface);
  options.filter = std::string(filter);
  options.pcap_path = path.string();
  return pcap::Capture::Start(pcap::NetnsRef::Path(domain.NetnsPath(element)), options);
}

absl::Status Annotate(const absl::Status& status, std::string_view what) {
  if (status.ok()) return status;
  return absl::Status(status.code(), Cat(what, ": ", std::string(status.message())));
}

}  // namespace

std::unique_ptr<StandaloneCaseContext> MakeContext(std::string_view id) {
  StandaloneCaseContext::Options options;
  options.id = std::string(id);
  options.bin_dir = NSMCERT_BUILD_DIR;
  auto context = StandaloneCaseContext::Create(options);
  if (!context.ok()) return nullptr;
  return *std::move(context);
}

absl::StatusOr<harness::TopologySpec> TwoNodeWithLocalClient() {
  auto spec = harness::LoadTopologyFile(DefaultTopologyFile().string());
  if (!spec.ok()) return spec.status();
  for (harness::NodeSpec& node : spec->nodes) {
    if (node.name != "node-b") continue;
    harness::WorkloadSpec client;
    client.name = "nsc-b";
    client.role = harness::WorkloadRole::kNsc;
    node.workloads.push_back(client);
    return spec;
  }
  return absl::NotFoundError("the default topology has no node-b");
}

std::string FirstAddress(const google::protobuf::RepeatedPtrField<std::string>& cidrs) {
  if (cidrs.empty()) return "";
  const std::string& cidr = cidrs[0];
  return cidr.substr(0, cidr.find('/'));
}

std::string ClientAddress(const connection::Connection& conn) {
  return FirstAddress(conn.context().ip_context().src_ip_addrs());
}

std::string EndpointAddress(const connection::Connection& conn) {
  return FirstAddress(conn.context().ip_context().dst_ip_addrs());
}

std::vector<std::string> SegmentNames(const connection::Connection& conn) {
  std::vector<std::string> names;
  for (const auto& segment : conn.path().path_segments()) names.push_back(segment.name());
  return names;
}

std::vector<std::string> GlobalAddresses(const std::vector<std::string>& cidrs) {
  std::vector<std::string> out;
  for (const std::string& cidr : cidrs) {
    if (!cidr.starts_with("fe80:")) out.push_back(cidr);
  }
  return out;
}

absl::StatusOr<absl::Duration> PingUntilReply(Domain& domain, std::string_view workload,
                                              std::string_view ip, absl::Duration timeout) {
  const absl::Time start = absl::Now();
  std::string last = "no attempt";
  while (absl::Now() - start < timeout) {
    auto replies = domain.Ping(workload, ip, 1, absl::Milliseconds(500));
    if (replies.ok() && *replies > 0) return absl::Now() - start;
    last = replies.ok() ? std::string("no reply") : replies.status().ToString();
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(Cat("no ping reply from ", ip, " in ", workload, " within ",
                                         absl::FormatDuration(timeout), " (last: ", last, ")"));
}

absl::Status ExpectIcmpOnInterface(Domain& domain, std::string_view workload,
                                   std::string_view interface, std::string_view src,
                                   std::string_view dst, std::string_view evidence_name) {
  auto capture = StartCapture(domain, workload, interface, "icmp", evidence_name);
  if (!capture.ok()) return Annotate(capture.status(), Cat("capture on ", interface));
  pcap::PacketVerifier verifier(capture->get());
  verifier.Flush();
  auto replies = domain.Ping(workload, dst, 3);
  if (!replies.ok()) return replies.status();
  if (*replies == 0) return absl::UnavailableError(Cat("no ping reply from ", dst));
  pcap::PacketTemplate request;
  request.With("ip.src", src).With("ip.dst", dst).With("icmp.type", 8).Lacks("vxlan.vni");
  pcap::PacketTemplate reply;
  reply.With("ip.src", dst).With("ip.dst", src).With("icmp.type", 0).Lacks("vxlan.vni");
  if (absl::Status s = verifier.ExpectPacket(request, kPacketTimeout); !s.ok()) {
    return Annotate(s, Cat("echo request on ", workload, "/", interface));
  }
  return Annotate(verifier.ExpectPacket(reply, kPacketTimeout),
                  Cat("echo reply on ", workload, "/", interface));
}

absl::Status ExpectVxlanIcmpOnUnderlay(Domain& domain, std::string_view node,
                                       std::string_view workload, std::uint32_t vni,
                                       std::string_view src, std::string_view dst,
                                       std::string_view evidence_name) {
  auto capture = StartCapture(domain, node, "ul0", "udp port 4789", evidence_name);
  if (!capture.ok()) return Annotate(capture.status(), Cat("capture on the underlay of ", node));
  pcap::PacketVerifier verifier(capture->get());
  verifier.Flush();
  auto replies = domain.Ping(workload, dst, 3);
  if (!replies.ok()) return replies.status();
  if (*replies == 0) return absl::UnavailableError(Cat("no ping reply from ", dst));
  pcap::PacketTemplate request;
  request.With("udp.dstport", 4789)
      .With("vxlan.vni", vni)
      .With("inner.ip.src", src)
      .With("inner.ip.dst", dst)
      .With("inner.icmp.type", 8);
  pcap::PacketTemplate reply;
  reply.With("udp.dstport", 4789)
      .With("vxlan.vni", vni)
      .With("inner.ip.src", dst)
      .With("inner.ip.dst", src)
      .With("inner.icmp.type", 0);
  if (absl::Status s = verifier.ExpectPacket(request, kPacketTimeout); !s.ok()) {
    return Annotate(s, Cat("VXLAN echo request on the underlay of ", node));
  }
  return Annotate(verifier.ExpectPacket(reply, kPacketTimeout),
                  Cat("VXLAN echo reply on the underlay of ", node));
}

absl::StatusOr<std::uint32_t> RemoteVni(Domain& domain, std::string_view node,
                                        std::string_view client_connection_id) {
  auto snapshot = domain.MonitorSnapshot(node);
  if (!snapshot.ok()) return snapshot.status();
  for (const auto& [key, conn] : *snapshot) {
    const auto& segments = conn.path().path_segments();
    if (segments.empty() || segments[0].id() != client_connection_id) continue;
    if (conn.mechanism().type() != "VXLAN") {
      return absl::FailedPreconditionError(
          Cat("the nsmgr of ", node, " sees mechanism ", conn.mechanism().type(), ", not VXLAN"));
    }
    const auto& parameters = conn.mechanism().parameters();
    auto it = parameters.find("vni");
    std::uint32_t vni = 0;
    if (it == parameters.end() || !absl::SimpleAtoi(it->second, &vni)) {
      return absl::FailedPreconditionError(Cat("the VXLAN mechanism at ", node, " has no vni"));
    }
    return vni;
  }
  return absl::NotFoundError(
      Cat("the nsmgr of ", node, " has no connection of ", client_connection_id));
}

absl::StatusOr<connection::Connection> WaitForConnectionAt(
    Domain& domain, const std::string& url, std::string_view client_connection_id,
    const std::function<bool(const connection::Connection*)>& wanted, std::string_view what,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "nothing";
  while (true) {
    auto snapshot = domain.MonitorSnapshotAt(url, {}, absl::Seconds(2));
    if (snapshot.ok()) {
      const connection::Connection* found = nullptr;
      for (const auto& [key, conn] : *snapshot) {
        const auto& segments = conn.path().path_segments();
        if (!segments.empty() && segments[0].id() == client_connection_id) found = &conn;
      }
      if (wanted(found)) return found != nullptr ? *found : connection::Connection();
      last = found == nullptr ? std::string("absent")
                              : Cat("state ", connection::State_Name(found->state()));
    } else {
      last = snapshot.status().ToString();
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(100));
  }
  return absl::DeadlineExceededError(Cat(url, ": connection ", client_connection_id, " not ", what,
                                         " within ", absl::FormatDuration(timeout),
                                         " (last: ", last, ")"));
}

absl::StatusOr<std::map<std::string, std::vector<std::string>>> LinksByNamespace(Domain& domain) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto* ns : domain.topology().namespaces()) {
    if (ns->element == "fabric") continue;
    auto links = domain.Links(ns->element);
    if (!links.ok()) return links.status();
    out[ns->element] = *std::move(links);
  }
  return out;
}

std::vector<std::string> ConnectionLinks(const std::vector<std::string>& links) {
  std::vector<std::string> out;
  for (const std::string& link : links) {
    if (link.starts_with("fwi-") || link.starts_with("fwo-") ||
        link.find("(vxlan)") != std::string::npos) {
      out.push_back(link);
    }
  }
  return out;
}

}  // namespace nsmcert::conformance::scenarios
