// Crafted traffic into namespaces (needs root). The peer's kernel answering a crafted packet is
// the proof that its checksums and lengths are right: Linux drops bad ones silently.
#include "pcap/packet_sender.h"

#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pcap/capture.h"
#include "pcap/packet_builder.h"
#include "pcap/packet_verifier.h"
#include "pcap/testing/netns_fixture.h"

namespace nsmcert::pcap {
namespace {

using ::testing::HasSubstr;
using testing::VethPair;

const EthernetSpec kAToB{.dst = std::string(VethPair::kMacB), .src = std::string(VethPair::kMacA)};
const Ipv4Spec kIpAToB{.src = std::string(VethPair::kIpA), .dst = std::string(VethPair::kIpB)};

class PcapPacketSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, raw sockets)";
    auto pair = VethPair::Create();
    ASSERT_TRUE(pair.ok()) << pair.status();
    pair_ = *std::move(pair);
    auto sender = FrameSender::Open(pair_.a->ref(), VethPair::kInterface);
    ASSERT_TRUE(sender.ok()) << sender.status();
    sender_ = *std::move(sender);
  }

  std::unique_ptr<Capture> CaptureOn(const testing::ScopedNetns& netns, std::string filter) {
    auto capture = Capture::Start(
        netns.ref(), {.interface = std::string(VethPair::kInterface), .filter = filter});
    EXPECT_TRUE(capture.ok()) << capture.status();
    return capture.ok() ? *std::move(capture) : nullptr;
  }

  VethPair pair_;
  std::unique_ptr<FrameSender> sender_;
};

TEST_F(PcapPacketSenderTest, FrameArrivesAtThePeerByteForByte) {
  auto frame = PacketBuilder()
                   .Ethernet(kAToB)
                   .Ipv4(kIpAToB)
                   .Udp({.src_port = 4000, .dst_port = 4001})
                   .Payload("exactly these bytes")
                   .Build();
  ASSERT_TRUE(frame.ok());
  std::unique_ptr<Capture> at_b = CaptureOn(*pair_.b, "udp port 4001");
  ASSERT_NE(at_b, nullptr);
  ASSERT_TRUE(sender_->Send(*frame).ok());
  PacketVerifier verify(at_b.get());
  // A template from the whole frame, nothing masked: every field must arrive unchanged.
  EXPECT_TRUE(verify.ExpectPacket(PacketTemplate::FromFrame(*frame), absl::Seconds(2)).ok());
  ASSERT_TRUE(at_b->Stop().ok());
  ASSERT_EQ(at_b->Packets().size(), 1u);
  EXPECT_EQ(at_b->Packets()[0].data, *frame);
}

TEST_F(PcapPacketSenderTest, PeerKernelAnswersACraftedPing) {
  auto request = PacketBuilder()
                     .Ethernet(kAToB)
                     .Ipv4(kIpAToB)
                     .Icmp({.type = 8, .ident = 0x4242, .seq = 9})
                     .Payload("are you there?")
                     .Build();
  ASSERT_TRUE(request.ok());
  std::unique_ptr<Capture> at_a = CaptureOn(*pair_.a, "icmp");
  ASSERT_NE(at_a, nullptr);
  PacketVerifier verify(at_a.get());
  ASSERT_TRUE(sender_->Send(*request).ok());
  const PacketTemplate reply = PacketTemplate()
                                   .With("eth.dst", VethPair::kMacA)
                                   .With("ip.src", VethPair::kIpB)
                                   .With("ip.dst", VethPair::kIpA)
                                   .With("icmp.type", 0)
                                   .With("icmp.ident", 0x4242)
                                   .With("icmp.seq", 9)
                                   .With("data.data", "61726520796f752074686572653f");
  absl::Status answered = verify.ExpectPacket(reply, absl::Seconds(2));
  EXPECT_TRUE(answered.ok()) << answered;
}

TEST_F(PcapPacketSenderTest, PeerKernelResetsACraftedSynToAClosedPort) {
  auto syn = PacketBuilder()
                 .Ethernet(kAToB)
                 .Ipv4(kIpAToB)
                 .Tcp({.src_port = 40000, .dst_port = 9, .seq = 1000, .flags = kTcpSyn})
                 .Build();
  ASSERT_TRUE(syn.ok());
  std::unique_ptr<Capture> at_a = CaptureOn(*pair_.a, "tcp");
  ASSERT_NE(at_a, nullptr);
  PacketVerifier verify(at_a.get());
  ASSERT_TRUE(sender_->Send(*syn).ok());
  const PacketTemplate reset = PacketTemplate()
                                   .With("ip.src", VethPair::kIpB)
                                   .With("tcp.srcport", 9)
                                   .With("tcp.dstport", 40000)
                                   .With("tcp.flags", kTcpRst | kTcpAck)
                                   .With("tcp.ack_raw", 1001);
  absl::Status answered = verify.ExpectPacket(reset, absl::Seconds(2));
  EXPECT_TRUE(answered.ok()) << answered;
}

TEST_F(PcapPacketSenderTest, UdpToAClosedPortComesBackQuotedInPortUnreachable) {
  auto datagram = PacketBuilder()
                      .Ethernet(kAToB)
                      .Ipv4(kIpAToB)
                      .Udp({.src_port = 5555, .dst_port = 9})
                      .Payload("anyone?")
                      .Build();
  ASSERT_TRUE(datagram.ok());
  std::unique_ptr<Capture> at_a = CaptureOn(*pair_.a, "icmp");
  ASSERT_NE(at_a, nullptr);
  PacketVerifier verify(at_a.get());
  ASSERT_TRUE(sender_->Send(*datagram).ok());
  const PacketTemplate unreachable = PacketTemplate()
                                         .With("icmp.type", 3)
                                         .With("icmp.code", 3)
                                         .With("orig.ip.src", VethPair::kIpA)
                                         .With("orig.udp.srcport", 5555)
                                         .With("orig.udp.dstport", 9);
  absl::Status answered = verify.ExpectPacket(unreachable, absl::Seconds(2));
  EXPECT_TRUE(answered.ok()) << answered;
}

TEST_F(PcapPacketSenderTest, IpPacketsAreRoutedByTheNamespace) {
  auto sender = IpPacketSender::Open(pair_.a->ref());
  ASSERT_TRUE(sender.ok()) << sender.status();
  auto v4 = PacketBuilder().Ipv4(kIpAToB).Udp({.src_port = 1, .dst_port = 7001}).Build();
  auto v6 = PacketBuilder()
                .Ipv6({.src = std::string(VethPair::kIp6A), .dst = std::string(VethPair::kIp6B)})
                .Udp({.src_port = 1, .dst_port = 7001})
                .Build();
  ASSERT_TRUE(v4.ok() && v6.ok());
  std::unique_ptr<Capture> at_b = CaptureOn(*pair_.b, "udp port 7001");
  ASSERT_NE(at_b, nullptr);
  PacketVerifier verify(at_b.get());
  ASSERT_TRUE((*sender)->Send(*v4).ok());
  ASSERT_TRUE((*sender)->Send(*v6).ok());
  // The namespace's stack chose veth0 and wrote the Ethernet header (neighbour resolution first).
  // A lost first neighbour solicitation is retried after a second (retrans_time), hence the
  // generous wait; a packet that arrives ends it at once.
  const auto from_a = PacketTemplate().With("eth.src", VethPair::kMacA).With("udp.dstport", 7001);
  constexpr absl::Duration kResolvedAndSent = absl::Seconds(5);
  absl::Status v4_seen =
      verify.ExpectPacket(PacketTemplate(from_a).With("ip.src", VethPair::kIpA), kResolvedAndSent);
  EXPECT_TRUE(v4_seen.ok()) << v4_seen;
  absl::Status v6_seen = verify.ExpectPacket(
      PacketTemplate(from_a).With("ipv6.src", VethPair::kIp6A), kResolvedAndSent);
  EXPECT_TRUE(v6_seen.ok()) << v6_seen;
}

TEST_F(PcapPacketSenderTest, ErrorsNameTheirCause) {
  auto no_interface = FrameSender::Open(pair_.a->ref(), "nope0");
  EXPECT_EQ(no_interface.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_interface.status().message(), HasSubstr("nope0"));
  EXPECT_EQ(FrameSender::Open(pair_.a->ref(), "a-name-longer-than-15").status().code(),
            absl::StatusCode::kInvalidArgument);
  auto no_namespace = FrameSender::Open(NetnsRef::Named("no-such-namespace-pcaptest"), "veth0");
  EXPECT_EQ(no_namespace.status().code(), absl::StatusCode::kNotFound);

  auto ip_sender = IpPacketSender::Open(pair_.a->ref());
  ASSERT_TRUE(ip_sender.ok());
  const uint8_t not_ip[] = {0x00, 0x01, 0x02};
  EXPECT_EQ((*ip_sender)->Send(not_ip).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nsmcert::pcap
