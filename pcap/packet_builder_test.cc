#include "pcap/packet_builder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pcap/checksum.h"
#include "pcap/decoder.h"
#include "pcap/testing/frames.h"

namespace nsmcert::pcap {
namespace {

using ::nsmcert::pcap::testing::HexBytes;
using ::testing::HasSubstr;

const EthernetSpec kEth{.dst = "02:00:00:00:00:02", .src = "02:00:00:00:00:01"};
const Ipv4Spec kIp{.src = "10.0.0.1", .dst = "10.0.0.2"};

// The kernel-made VXLAN frame from decoder_test (a neighbor solicitation crossing the overlay),
// rebuilt field by field: every byte must come out the same, which checks the IPv4 header
// checksum, the ICMPv6 pseudo-header checksum, all lengths and the VXLAN encoding.
TEST(PcapPacketBuilderTest, RebuildsAKernelVxlanFrameByteForByte) {
  const std::vector<uint8_t> kernel = HexBytes(
      "0200 0000 0001 0200 0000 0002 0800 4500"
      "007a 7bd8 0000 4011 ea86 0a09 0002 0a09"
      "0001 c7e8 12b5 0066 148c 0800 0000 0010"
      "9200 3333 ffb3 1635 7e97 29b3 1635 86dd"
      "6000 0000 0020 3aff 0000 0000 0000 0000"
      "0000 0000 0000 0000 ff02 0000 0000 0000"
      "0000 0001 ffb3 1635 8700 cb90 0000 0000"
      "fe80 0000 0000 0000 7c97 29ff feb3 1635"
      "0e01 17e1 ee74 c9cf");
  auto built =
      PacketBuilder()
          .Ethernet({.dst = "02:00:00:00:00:01", .src = "02:00:00:00:00:02"})
          .Ipv4({.src = "10.9.0.2", .dst = "10.9.0.1", .id = 0x7bd8})
          // The kernel leaves the outer UDP checksum to offload: the frame holds a partial sum.
          .Udp({.src_port = 51176, .checksum = 0x148c})
          .Vxlan({.vni = 4242})
          .Ethernet({.dst = "33:33:ff:b3:16:35", .src = "7e:97:29:b3:16:35"})
          .Ipv6({.src = "::", .dst = "ff02::1:ffb3:1635", .hop_limit = 255})
          .Icmpv6({.type = 135})
          .Payload(HexBytes("fe80 0000 0000 0000 7c97 29ff feb3 1635 0e01 17e1 ee74 c9cf"))
          .Build();
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(*built, kernel);
}

TEST(PcapPacketBuilderTest, Ipv4IcmpChecksumsVerify) {
  auto frame = PacketBuilder()
                   .Ethernet(kEth)
                   .Ipv4({.src = "10.0.0.1", .dst = "10.0.0.2", .ttl = 7, .id = 99})
                   .Icmp({.type = 8, .ident = 0x1234, .seq = 3})
                   .Payload("odd")
                   .Build();
  ASSERT_TRUE(frame.ok()) << frame.status();
  const std::span<const uint8_t> bytes(*frame);
  EXPECT_EQ(bytes.size(), 14u + 20 + 8 + 3);
  EXPECT_EQ(InternetChecksum(bytes.subspan(14, 20)), 0);  // IPv4 header
  EXPECT_EQ(InternetChecksum(bytes.subspan(34)), 0);      // ICMP over header and payload
  const DecodedPacket p = Decode(bytes);
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("ip.len"), 31u);
  EXPECT_EQ(p.GetUint("ip.ttl"), 7u);
  EXPECT_EQ(p.GetUint("ip.proto"), 1u);
  EXPECT_EQ(p.GetUint("icmp.ident"), 0x1234u);
  EXPECT_EQ(p.GetString("data.data"), "6f6464");
}

// Verifies a transport checksum the way a receiver does: pseudo-header plus segment sums to 0.
uint16_t ReceiverSum(std::span<const uint8_t> ip_packet, uint8_t protocol) {
  ChecksumAccumulator sum;
  if ((ip_packet[0] >> 4) == 4) {
    const size_t header = (ip_packet[0] & 0x0f) * 4;
    sum.Add(ip_packet.subspan(12, 8));
    sum.AddU16(protocol);
    sum.AddU16(static_cast<uint16_t>(ip_packet.size() - header));
    sum.Add(ip_packet.subspan(header));
  } else {
    sum.Add(ip_packet.subspan(8, 32));
    sum.AddU32(static_cast<uint32_t>(ip_packet.size() - 40));
    sum.AddU32(protocol);
    sum.Add(ip_packet.subspan(40));
  }
  return sum.Finish();
}

TEST(PcapPacketBuilderTest, TransportChecksumsVerifyOverBothFamilies) {
  const Ipv6Spec ip6{.src = "fd00::1", .dst = "fd00::2"};
  struct Case {
    const char* name;
    PacketBuilder builder;
    uint8_t protocol;
  };
  const Case cases[] = {
      {"udp4", PacketBuilder().Ipv4(kIp).Udp({.src_port = 1, .dst_port = 2}).Payload("abc"), 17},
      {"tcp4", PacketBuilder().Ipv4(kIp).Tcp({.src_port = 1, .dst_port = 2, .seq = 7}), 6},
      {"udp6", PacketBuilder().Ipv6(ip6).Udp({.src_port = 1, .dst_port = 2}).Payload("abcd"), 17},
      {"tcp6", PacketBuilder().Ipv6(ip6).Tcp({.src_port = 1, .dst_port = 2}).Payload("x"), 6},
      {"icmp6", PacketBuilder().Ipv6(ip6).Icmpv6({.ident = 1, .seq = 2}).Payload("ping"), 58},
  };
  for (const Case& c : cases) {
    auto packet = c.builder.Build();
    ASSERT_TRUE(packet.ok()) << c.name << ": " << packet.status();
    EXPECT_EQ(ReceiverSum(*packet, c.protocol), 0) << c.name;
  }
}

TEST(PcapPacketBuilderTest, FillsTypesProtocolsAndVxlanPort) {
  auto frame = PacketBuilder()
                   .Ethernet(kEth)
                   .Vlan({.id = 30, .priority = 3})
                   .Ipv6({.src = "fd00::1", .dst = "fd00::2"})
                   .Udp({.src_port = 40000})
                   .Vxlan({.vni = 0xabcdef})
                   .Ethernet(kEth)
                   .Arp({.sender_ip = "10.0.0.1", .target_ip = "10.0.0.2"})
                   .Build();
  ASSERT_TRUE(frame.ok()) << frame.status();
  const DecodedPacket p = Decode(*frame);
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("eth.type"), 0x8100u);
  EXPECT_EQ(p.GetUint("vlan.id"), 30u);
  EXPECT_EQ(p.GetUint("vlan.priority"), 3u);
  EXPECT_EQ(p.GetUint("vlan.etype"), 0x86ddu);
  EXPECT_EQ(p.GetUint("ipv6.nxt"), 17u);
  EXPECT_EQ(p.GetUint("ipv6.plen"), 8u + 8 + 14 + 28);
  EXPECT_EQ(p.GetUint("udp.dstport"), 4789u);
  EXPECT_EQ(p.GetUint("vxlan.vni"), 0xabcdefu);
  EXPECT_EQ(p.GetUint("inner.eth.type"), 0x0806u);
  EXPECT_EQ(p.GetString("inner.arp.dst.proto_ipv4"), "10.0.0.2");
}

TEST(PcapPacketBuilderTest, OverridesCraftMalformedPackets) {
  auto frame =
      PacketBuilder()
          .Ethernet(kEth)
          .Ipv4({.src = "10.0.0.1", .dst = "10.0.0.2", .total_length = 1000, .checksum = 0xbeef})
          .Udp({.src_port = 1, .dst_port = 2, .length = 3, .checksum = 0})
          .Build();
  ASSERT_TRUE(frame.ok()) << frame.status();
  const DecodedPacket p = Decode(*frame);
  EXPECT_EQ(p.GetUint("ip.checksum"), 0xbeefu);
  EXPECT_EQ(p.GetUint("ip.len"), 1000u);
  EXPECT_EQ(p.GetUint("udp.length"), 3u);
  EXPECT_EQ(p.GetUint("udp.checksum"), 0u);
  EXPECT_FALSE(p.complete());  // the decoder notices both lies
}

TEST(PcapPacketBuilderTest, ErrorsNameLayerAndField) {
  struct Case {
    const char* name;
    PacketBuilder builder;
    const char* message;
  };
  const Case cases[] = {
      {"bad mac", PacketBuilder().Ethernet({.dst = "02:00"}).Ipv4(kIp).Icmp({}),
       "layer 1 (ethernet).dst: '02:00' is not a MAC address"},
      {"bad ipv4", PacketBuilder().Ethernet(kEth).Ipv4({.src = "10.0.0.300", .dst = "10.0.0.1"}),
       "layer 2 (ipv4).src: '10.0.0.300' is not an IPv4 address"},
      {"no ethertype", PacketBuilder().Ethernet(kEth).Payload("x"),
       "layer 1 (ethernet).type: the next layer implies no EtherType; set it"},
      {"no protocol", PacketBuilder().Ipv4(kIp).Payload("x"),
       "layer 1 (ipv4).protocol: the next layer implies no IP protocol; set it"},
      {"udp without ip", PacketBuilder().Ethernet(kEth).Udp({}),
       "layer 2 (udp): must come right after an IPv4 or IPv6 layer"},
      {"icmpv6 after ipv4", PacketBuilder().Ipv4(kIp).Icmpv6({}),
       "layer 2 (icmpv6): must come right after an IPv6 layer"},
      {"vlan id", PacketBuilder().Ethernet(kEth).Vlan({.id = 4096}).Ipv4(kIp).Icmp({}),
       "layer 2 (vlan).id: 4096 is over 4095"},
      {"vni", PacketBuilder().Ipv4(kIp).Udp({}).Vxlan({.vni = 1 << 24}),
       "layer 3 (vxlan).vni: 16777216 is over 24 bits"},
      {"fragment offset",
       PacketBuilder().Ipv4(
           {.src = "10.0.0.1", .dst = "10.0.0.2", .fragment_offset = 3, .protocol = 17}),
       "layer 1 (ipv4).fragment_offset: 3 is not a multiple of 8 below 65536"},
      {"too big", PacketBuilder().Ipv4(kIp).Udp({}).Payload(std::string(70000, 'x')),
       "layer 2 (udp).length: payload too large"},
      {"empty", PacketBuilder(), "packet builder: no layers"},
  };
  for (const Case& c : cases) {
    auto frame = c.builder.Build();
    ASSERT_FALSE(frame.ok()) << c.name;
    EXPECT_EQ(frame.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(frame.status().message(), c.message) << c.name;
  }
}

}  // namespace
}  // namespace nsmcert::pcap
