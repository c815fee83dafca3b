// Real traffic made in namespaces, captured to a pcap file, decoded by us and by tshark: every
// compared field of every packet must agree (needs root and tshark).
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pcap/capture.h"
#include "pcap/packet_builder.h"
#include "pcap/packet_sender.h"
#include "pcap/packet_verifier.h"
#include "pcap/testing/netns_fixture.h"
#include "pcap/testing/temp_dir.h"
#include "pcap/testing/tshark.h"

namespace nsmcert::pcap {
namespace {

using testing::VethPair;

constexpr int kVni = 4242;

class PcapTsharkAgreementTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, capture)";
    if (!testing::HaveTshark()) GTEST_SKIP() << "tshark is not installed";
    auto pair = VethPair::Create();
    ASSERT_TRUE(pair.ok()) << pair.status();
    pair_ = *std::move(pair);
  }

  std::unique_ptr<Capture> StartCapture(const testing::ScopedNetns& netns, std::string interface,
                                        std::string filter, std::string file) {
    auto capture = Capture::Start(netns.ref(), {.interface = std::move(interface),
                                                .filter = std::move(filter),
                                                .pcap_path = dir_.File(file)});
    EXPECT_TRUE(capture.ok()) << capture.status();
    return capture.ok() ? *std::move(capture) : nullptr;
  }

  // Stops the capture and compares its file with tshark; returns how many packets agreed.
  size_t StopAndCompare(Capture& capture) {
    EXPECT_TRUE(capture.Stop().ok());
    absl::StatusOr<size_t> compared = testing::CompareFileWithTshark(capture.options().pcap_path);
    EXPECT_TRUE(compared.ok()) << compared.status();
    return compared.ok() ? *compared : 0;
  }

  absl::Status Ping(const testing::ScopedNetns& from, std::string_view to, int count,
                    bool ipv6 = false) {
    std::vector<std::string> argv = {"ping", "-n",   "-q", "-c", std::to_string(count),
                                     "-i",   "0.05", "-W", "2",  std::string(to)};
    if (ipv6) argv.insert(argv.begin() + 1, "-6");
    return from.Exec(argv).status();
  }

  VethPair pair_;
  testing::ScopedTempDir dir_;
};

TEST_F(PcapTsharkAgreementTest, PingOverVethWithArpAndNeighbourDiscovery) {
  // No filter: ARP, IPv4 and IPv6 echo, neighbour solicitations and advertisements, and whatever
  // else the kernel sends (MLD reports, router solicitations) all go through the comparison.
  std::unique_ptr<Capture> capture = StartCapture(*pair_.a, "veth0", "", "veth.pcap");
  ASSERT_NE(capture, nullptr);
  PacketVerifier verify(capture.get());
  ASSERT_TRUE(Ping(*pair_.a, VethPair::kIpB, 2).ok());
  ASSERT_TRUE(Ping(*pair_.a, VethPair::kIp6B, 2, /*ipv6=*/true).ok());

  const auto timeout = absl::Seconds(2);
  EXPECT_TRUE(verify
                  .ExpectPacket(PacketTemplate()
                                    .With("arp.opcode", 1)
                                    .With("arp.src.hw_mac", VethPair::kMacA)
                                    .With("arp.dst.proto_ipv4", VethPair::kIpB),
                                timeout)
                  .ok());
  EXPECT_TRUE(verify
                  .ExpectPacket(PacketTemplate()
                                    .With("arp.opcode", 2)
                                    .With("arp.src.hw_mac", VethPair::kMacB)
                                    .With("arp.src.proto_ipv4", VethPair::kIpB),
                                timeout)
                  .ok());
  EXPECT_TRUE(verify.ExpectPackets(PacketTemplate().With("icmp.type", 0), 2, timeout).ok());
  EXPECT_TRUE(verify
                  .ExpectPacket(PacketTemplate()
                                    .With("icmpv6.type", 135)
                                    .With("icmpv6.nd.ns.target_address", VethPair::kIp6B),
                                timeout)
                  .ok());
  EXPECT_TRUE(verify
                  .ExpectPacket(PacketTemplate()
                                    .With("icmpv6.type", 136)
                                    .With("icmpv6.nd.na.target_address", VethPair::kIp6B),
                                timeout)
                  .ok());
  EXPECT_TRUE(verify
                  .ExpectPackets(PacketTemplate()
                                     .With("ipv6.src", VethPair::kIp6B)
                                     .With("icmpv6.type", 129)
                                     .Has("icmpv6.echo.sequence_number"),
                                 2, timeout)
                  .ok());
  EXPECT_GE(StopAndCompare(*capture), 10u);
}

TEST_F(PcapTsharkAgreementTest, VxlanBetweenTwoNamespaces) {
  ASSERT_TRUE(testing::AddVxlanOverlay(pair_, kVni).ok());
  std::unique_ptr<Capture> underlay =
      StartCapture(*pair_.a, "veth0", "udp port 4789", "underlay.pcap");
  std::unique_ptr<Capture> overlay = StartCapture(*pair_.a, "vx0", "icmp", "overlay.pcap");
  ASSERT_NE(underlay, nullptr);
  ASSERT_NE(overlay, nullptr);
  ASSERT_TRUE(Ping(*pair_.a, "10.78.0.2", 3).ok());

  PacketVerifier verify(underlay.get());
  const PacketTemplate tunnelled_request = PacketTemplate()
                                               .With("ip.src", VethPair::kIpA)
                                               .With("ip.dst", VethPair::kIpB)
                                               .With("udp.dstport", 4789)
                                               .With("vxlan.vni", kVni)
                                               .With("inner.ip.src", "10.78.0.1")
                                               .With("inner.ip.dst", "10.78.0.2")
                                               .With("inner.icmp.type", 8);
  EXPECT_TRUE(verify.ExpectPackets(tunnelled_request, 3, absl::Seconds(2)).ok());
  EXPECT_TRUE(verify
                  .ExpectPackets(PacketTemplate()
                                     .With("vxlan.vni", kVni)
                                     .With("inner.ip.src", "10.78.0.2")
                                     .With("inner.icmp.type", 0),
                                 3, absl::Seconds(2))
                  .ok());
  // ARP crossed the tunnel too; nothing else did.
  verify.Ignore(PacketTemplate().Has("inner.arp.opcode"));
  verify.Ignore(PacketTemplate().Has("inner.icmpv6.type"));
  EXPECT_TRUE(verify.ExpectNoOtherPackets().ok());
  EXPECT_TRUE(verify.ExpectNoPacket(PacketTemplate().Lacks("vxlan.vni")).ok());

  // The inner packets seen on the underlay are the ones seen on the VXLAN device.
  ASSERT_TRUE(overlay->Stop().ok());
  PacketVerifier on_vx0(overlay.get());
  EXPECT_TRUE(on_vx0
                  .ExpectPackets(PacketTemplate().With("ip.dst", "10.78.0.2").With("icmp.type", 8),
                                 3, absl::ZeroDuration())
                  .ok());

  EXPECT_GE(StopAndCompare(*underlay), 6u);
  EXPECT_GE(StopAndCompare(*overlay), 6u);
}

TEST_F(PcapTsharkAgreementTest, CraftedVlanTcpAndUdpFramesAndTheKernelsAnswers) {
  auto sender = FrameSender::Open(pair_.a->ref(), VethPair::kInterface);
  ASSERT_TRUE(sender.ok()) << sender.status();
  std::unique_ptr<Capture> at_a = StartCapture(*pair_.a, "veth0", "", "a.pcap");
  std::unique_ptr<Capture> at_b = StartCapture(*pair_.b, "veth0", "", "b.pcap");
  ASSERT_NE(at_a, nullptr);
  ASSERT_NE(at_b, nullptr);

  const EthernetSpec eth{.dst = std::string(VethPair::kMacB), .src = std::string(VethPair::kMacA)};
  const Ipv4Spec ip{.src = std::string(VethPair::kIpA), .dst = std::string(VethPair::kIpB)};
  const Ipv6Spec ip6{.src = std::string(VethPair::kIp6A), .dst = std::string(VethPair::kIp6B)};
  const std::vector<PacketBuilder> frames = {
      PacketBuilder()
          .Ethernet(eth)
          .Vlan({.id = 100, .priority = 6})
          .Ipv4(ip)
          .Udp({.src_port = 1000, .dst_port = 2000}),
      PacketBuilder()
          .Ethernet(eth)
          .Vlan({.id = 10})
          .Vlan({.id = 20, .dei = true})
          .Ipv6(ip6)
          .Icmpv6({.ident = 5, .seq = 6}),
      PacketBuilder().Ethernet(eth).Ipv4(ip).Tcp({.src_port = 40000, .dst_port = 9, .seq = 77}),
      PacketBuilder().Ethernet(eth).Ipv4(ip).Udp({.src_port = 5555, .dst_port = 9}).Payload("?"),
      PacketBuilder().Ethernet(eth).Ipv6(ip6).Udp({.src_port = 5555, .dst_port = 9}).Payload("?"),
  };
  for (const PacketBuilder& builder : frames) {
    auto frame = builder.Build();
    ASSERT_TRUE(frame.ok()) << frame.status();
    ASSERT_TRUE((*sender)->Send(*frame).ok());
  }
  PacketVerifier verify_b(at_b.get());
  EXPECT_TRUE(verify_b
                  .ExpectPacket(PacketTemplate().With("vlan.id", 100).With("vlan.priority", 6),
                                absl::Seconds(2))
                  .ok());
  EXPECT_TRUE(verify_b
                  .ExpectPacket(PacketTemplate()
                                    .With("vlan.id", 10)
                                    .With("vlan2.id", 20)
                                    .With("vlan2.dei", 1)
                                    .With("icmpv6.echo.identifier", 5),
                                absl::Seconds(2))
                  .ok());
  PacketVerifier verify_a(at_a.get());
  EXPECT_TRUE(
      verify_a.ExpectPacket(PacketTemplate().With("tcp.flags", kTcpRst | kTcpAck), absl::Seconds(2))
          .ok());
  EXPECT_TRUE(verify_a
                  .ExpectPacket(PacketTemplate().With("icmp.type", 3).With("orig.udp.dstport", 9),
                                absl::Seconds(2))
                  .ok());
  EXPECT_TRUE(verify_a
                  .ExpectPacket(PacketTemplate().With("icmpv6.type", 1).With("orig.udp.dstport", 9),
                                absl::Seconds(2))
                  .ok());
  EXPECT_GE(StopAndCompare(*at_a), 8u);
  EXPECT_GE(StopAndCompare(*at_b), 8u);
}

}  // namespace
}  // namespace nsmcert::pcap
