// Decoder tests on frames written out byte by byte (not made by our builder, so that a shared
// mistake cannot hide), including frames captured with tcpdump between two namespaces.
#include "pcap/decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "pcap/testing/frames.h"

namespace nsmcert::pcap {
namespace {

using ::nsmcert::pcap::testing::HexBytes;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> LayerNames(const DecodedPacket& packet) {
  std::vector<std::string> names;
  for (const DecodedLayer& layer : packet.layers()) names.push_back(layer.name);
  return names;
}

// Ethernet / IPv4 (DF, id 0x1234, ttl 64) / ICMP echo request id 7 seq 1 / "abcd".
const char kIcmpEcho[] =
    "0200 0000 0002 0200 0000 0001 0800"
    "4500 0020 1234 4000 4001 0000 0a00 0001 0a00 0002"
    "0800 f7f5 0007 0001"
    "6162 6364";

TEST(PcapDecoderTest, EthernetIpv4IcmpEcho) {
  const DecodedPacket p = Decode(HexBytes(kIcmpEcho));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_THAT(LayerNames(p), ElementsAre("eth", "ip", "icmp", "data"));
  EXPECT_EQ(p.GetString("eth.dst"), "02:00:00:00:00:02");
  EXPECT_EQ(p.GetString("eth.src"), "02:00:00:00:00:01");
  EXPECT_EQ(p.GetString("eth.type"), "0x0800");
  EXPECT_EQ(p.GetUint("ip.version"), 4u);
  EXPECT_EQ(p.GetUint("ip.hdr_len"), 20u);
  EXPECT_EQ(p.GetUint("ip.len"), 32u);
  EXPECT_EQ(p.GetString("ip.id"), "0x1234");
  EXPECT_EQ(p.GetString("ip.flags"), "0x02");
  EXPECT_EQ(p.GetUint("ip.flags.df"), 1u);
  EXPECT_EQ(p.GetUint("ip.flags.mf"), 0u);
  EXPECT_EQ(p.GetUint("ip.ttl"), 64u);
  EXPECT_EQ(p.GetUint("ip.proto"), 1u);
  EXPECT_EQ(p.GetString("ip.src"), "10.0.0.1");
  EXPECT_EQ(p.GetString("ip.dst"), "10.0.0.2");
  EXPECT_EQ(p.GetUint("icmp.type"), 8u);
  EXPECT_EQ(p.GetUint("icmp.code"), 0u);
  EXPECT_EQ(p.GetString("icmp.checksum"), "0xf7f5");
  EXPECT_EQ(p.GetUint("icmp.ident"), 7u);
  EXPECT_EQ(p.GetUint("icmp.seq"), 1u);
  EXPECT_EQ(p.GetUint("data.len"), 4u);
  EXPECT_EQ(p.GetString("data.data"), "61626364");
  EXPECT_EQ(p.layers()[1].offset, 14u);
  EXPECT_EQ(p.layers()[2].offset, 34u);
  EXPECT_EQ(p.Summary(),
            "eth 02:00:00:00:00:01 > 02:00:00:00:00:02 | ip 10.0.0.1 > 10.0.0.2 ttl 64 proto 1 | "
            "icmp 8/0 id 7 seq 1 | 4 bytes");
}

TEST(PcapDecoderTest, ArpRequestIgnoresEthernetPadding) {
  const DecodedPacket p = Decode(
      HexBytes("ffff ffff ffff 0200 0000 0001 0806"
               "0001 0800 0604 0001 0200 0000 0001 0a00 0001 0000 0000 0000 0a00 0002"
               "0000 0000 0000 0000 0000 0000 0000 0000 0000"));  // 18 bytes of padding to 60
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_THAT(LayerNames(p), ElementsAre("eth", "arp"));
  EXPECT_EQ(p.GetUint("arp.hw.type"), 1u);
  EXPECT_EQ(p.GetString("arp.proto.type"), "0x0800");
  EXPECT_EQ(p.GetUint("arp.opcode"), 1u);
  EXPECT_EQ(p.GetString("arp.src.hw_mac"), "02:00:00:00:00:01");
  EXPECT_EQ(p.GetString("arp.src.proto_ipv4"), "10.0.0.1");
  EXPECT_EQ(p.GetString("arp.dst.hw_mac"), "00:00:00:00:00:00");
  EXPECT_EQ(p.GetString("arp.dst.proto_ipv4"), "10.0.0.2");
  EXPECT_EQ(p.Summary(),
            "eth 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff | arp who-has 10.0.0.2 tell 10.0.0.1");
}

TEST(PcapDecoderTest, TwoVlanTagsThenIpv6Icmpv6Echo) {
  const DecodedPacket p =
      Decode(HexBytes("0200 0000 0002 0200 0000 0001 88a8"
                      "a00a 8100"  // outer tag: priority 5, id 10
                      "1014 86dd"  // inner tag: dei 1, id 20
                      "6120 0003 000c 3a40 fd00 0000 0000 0000 0000 0000 0000 0001"
                      "fd00 0000 0000 0000 0000 0000 0000 0002"
                      "8000 1234 0003 0004 6869 6869"));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_THAT(LayerNames(p), ElementsAre("eth", "vlan", "vlan2", "ipv6", "icmpv6", "data"));
  EXPECT_EQ(p.GetString("eth.type"), "0x88a8");
  EXPECT_EQ(p.GetUint("vlan.priority"), 5u);
  EXPECT_EQ(p.GetUint("vlan.dei"), 0u);
  EXPECT_EQ(p.GetUint("vlan.id"), 10u);
  EXPECT_EQ(p.GetString("vlan.etype"), "0x8100");
  EXPECT_EQ(p.GetUint("vlan2.dei"), 1u);
  EXPECT_EQ(p.GetUint("vlan2.id"), 20u);
  EXPECT_EQ(p.GetUint("ipv6.tclass"), 0x12u);
  EXPECT_EQ(p.GetUint("ipv6.flow"), 3u);
  EXPECT_EQ(p.GetUint("ipv6.plen"), 12u);
  EXPECT_EQ(p.GetUint("ipv6.nxt"), 58u);
  EXPECT_EQ(p.GetUint("ipv6.hlim"), 64u);
  EXPECT_EQ(p.GetString("ipv6.src"), "fd00::1");
  EXPECT_EQ(p.GetString("ipv6.dst"), "fd00::2");
  EXPECT_EQ(p.GetUint("icmpv6.type"), 128u);
  EXPECT_EQ(p.GetUint("icmpv6.echo.identifier"), 3u);
  EXPECT_EQ(p.GetUint("icmpv6.echo.sequence_number"), 4u);
  EXPECT_EQ(p.GetUint("data.len"), 4u);
}

TEST(PcapDecoderTest, ThirdVlanTagIsNotedAndLeftAsData) {
  const DecodedPacket p =
      Decode(HexBytes("0200 0000 0002 0200 0000 0001 8100 0001 8100 0002 8100 0003 0800 4500"));
  EXPECT_FALSE(p.complete());
  EXPECT_THAT(p.errors()[0], HasSubstr("more than two"));
  EXPECT_THAT(LayerNames(p), ElementsAre("eth", "vlan", "vlan2", "data"));
}

// Captured with tcpdump on the underlay veth between two namespaces joined by kernel VXLAN
// devices (VNI 4242): a neighbor solicitation crossing the overlay.
const char kVxlanNeighborSolicitation[] =
    "0200 0000 0001 0200 0000 0002 0800 4500"
    "007a 7bd8 0000 4011 ea86 0a09 0002 0a09"
    "0001 c7e8 12b5 0066 148c 0800 0000 0010"
    "9200 3333 ffb3 1635 7e97 29b3 1635 86dd"
    "6000 0000 0020 3aff 0000 0000 0000 0000"
    "0000 0000 0000 0000 ff02 0000 0000 0000"
    "0000 0001 ffb3 1635 8700 cb90 0000 0000"
    "fe80 0000 0000 0000 7c97 29ff feb3 1635"
    "0e01 17e1 ee74 c9cf";

TEST(PcapDecoderTest, VxlanInnerFrameGetsInnerPrefix) {
  const DecodedPacket p = Decode(HexBytes(kVxlanNeighborSolicitation));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_THAT(LayerNames(p),
              ElementsAre("eth", "ip", "udp", "vxlan", "inner.eth", "inner.ipv6", "inner.icmpv6"));
  EXPECT_EQ(p.GetString("ip.src"), "10.9.0.2");
  EXPECT_EQ(p.GetUint("ip.flags.df"), 0u);
  EXPECT_EQ(p.GetUint("udp.srcport"), 51176u);
  EXPECT_EQ(p.GetUint("udp.dstport"), 4789u);
  EXPECT_EQ(p.GetUint("udp.length"), 102u);
  EXPECT_EQ(p.GetString("vxlan.flags"), "0x0800");
  EXPECT_EQ(p.GetUint("vxlan.vni"), 4242u);
  EXPECT_EQ(p.GetString("inner.eth.dst"), "33:33:ff:b3:16:35");
  EXPECT_EQ(p.GetString("inner.eth.type"), "0x86dd");
  EXPECT_EQ(p.GetString("inner.ipv6.src"), "::");
  EXPECT_EQ(p.GetString("inner.ipv6.dst"), "ff02::1:ffb3:1635");
  EXPECT_EQ(p.GetUint("inner.ipv6.hlim"), 255u);
  EXPECT_EQ(p.GetUint("inner.icmpv6.type"), 135u);
  EXPECT_EQ(p.GetString("inner.icmpv6.nd.ns.target_address"), "fe80::7c97:29ff:feb3:1635");
  EXPECT_FALSE(p.Has("icmpv6.type"));  // only the inner packet is ICMPv6
}

TEST(PcapDecoderTest, VxlanOnlyOnConfiguredPorts) {
  std::vector<uint8_t> frame = HexBytes(kVxlanNeighborSolicitation);
  frame[36] = 0x21;  // destination port 4789 -> 8472 (0x2118), Linux's historical default
  frame[37] = 0x18;
  const DecodedPacket plain = Decode(frame);
  EXPECT_FALSE(plain.Has("vxlan.vni"));
  EXPECT_EQ(plain.GetUint("data.len"), 94u);
  DecodeOptions options;
  options.vxlan_ports = {8472};
  EXPECT_EQ(Decode(frame, kLinkTypeEthernet, options).GetUint("vxlan.vni"), 4242u);
}

TEST(PcapDecoderTest, VxlanNestingLimitLeavesInnerFrameAsData) {
  DecodeOptions options;
  options.max_nesting = 0;
  const DecodedPacket p = Decode(HexBytes(kVxlanNeighborSolicitation), kLinkTypeEthernet, options);
  EXPECT_FALSE(p.complete());
  EXPECT_THAT(p.errors()[0], HasSubstr("nesting"));
  EXPECT_EQ(p.GetUint("vxlan.vni"), 4242u);
  EXPECT_EQ(p.GetUint("data.len"), 86u);
}

// Captured with tcpdump: an MLDv2 report behind a hop-by-hop options header.
TEST(PcapDecoderTest, Ipv6HopByHopHeaderIsSkipped) {
  const DecodedPacket p =
      Decode(HexBytes("3333 0000 0016 0200 0000 0002 86dd 6000"
                      "0000 0024 0001 fe80 0000 0000 0000 0000"
                      "00ff fe00 0002 ff02 0000 0000 0000 0000"
                      "0000 0000 0016 3a00 0502 0000 0100 8f00"
                      "7205 0000 0001 0400 0000 ff02 0000 0000"
                      "0000 0000 0001 ff00 0002"));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("ipv6.nxt"), 0u);
  EXPECT_EQ(p.GetUint("icmpv6.type"), 143u);
  EXPECT_EQ(p.GetString("icmpv6.checksum"), "0x7205");
}

TEST(PcapDecoderTest, TcpWithOptionsAndPayload) {
  const DecodedPacket p = Decode(
      HexBytes("0200 0000 0002 0200 0000 0001 0800"
               "4500 002f 0000 4000 4006 0000 0a00 0001 0a00 0002"
               "9c40 0050 0000 03e8 0000 0000 6012 ffff 0000 0000 0204 05b4"  // SYN+ACK, MSS option
               "6869 21"));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("tcp.srcport"), 40000u);
  EXPECT_EQ(p.GetUint("tcp.dstport"), 80u);
  EXPECT_EQ(p.GetUint("tcp.seq_raw"), 1000u);
  EXPECT_EQ(p.GetUint("tcp.hdr_len"), 24u);
  EXPECT_EQ(p.GetString("tcp.flags"), "0x0012");
  EXPECT_EQ(p.GetUint("tcp.window_size_value"), 65535u);
  EXPECT_EQ(p.GetString("data.data"), "686921");
}

TEST(PcapDecoderTest, IcmpErrorQuotesTheOriginalDatagram) {
  // Port unreachable for a UDP datagram whose length field (0x0040) covers more than is quoted:
  // quoting cuts datagrams short, and that is not an error.
  const DecodedPacket p =
      Decode(HexBytes("0200 0000 0001 0200 0000 0002 0800"
                      "45c0 0038 0001 0000 4001 0000 0a00 0002 0a00 0001"
                      "0303 0000 0000 0000"
                      "4500 004c 0002 0000 4011 0000 0a00 0001 0a00 0002"
                      "1388 0009 0038 0000"));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("icmp.type"), 3u);
  EXPECT_EQ(p.GetUint("icmp.code"), 3u);
  EXPECT_FALSE(p.Has("icmp.seq"));
  EXPECT_EQ(p.GetString("orig.ip.src"), "10.0.0.1");
  EXPECT_EQ(p.GetUint("orig.ip.len"), 76u);
  EXPECT_EQ(p.GetUint("orig.udp.dstport"), 9u);
  EXPECT_THAT(LayerNames(p), ElementsAre("eth", "ip", "icmp", "orig.ip", "orig.udp"));
}

TEST(PcapDecoderTest, FragmentNeededCarriesMtu) {
  const DecodedPacket p =
      Decode(HexBytes("0200 0000 0001 0200 0000 0002 0800"
                      "4500 0038 0001 0000 4001 0000 0a00 0002 0a00 0001"
                      "0304 0000 0000 0578"
                      "4500 05dc 0002 4000 4006 0000 0a00 0001 0a00 0002"
                      "9c40 0050 0000 0001"));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("icmp.mtu"), 1400u);
  EXPECT_EQ(p.GetUint("orig.tcp.dstport"), 80u);
  EXPECT_FALSE(p.Has("orig.tcp.flags"));  // only 8 bytes of the TCP header are quoted
}

TEST(PcapDecoderTest, NonFirstFragmentIsNotDecodedAsTransport) {
  const DecodedPacket p =
      Decode(HexBytes("0200 0000 0002 0200 0000 0001 0800"
                      "4500 001c 0001 00b9 4011 0000 0a00 0001 0a00 0002"  // offset 185*8 = 1480
                      "1388 0009 0008 0000"));
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_EQ(p.GetUint("ip.frag_offset"), 185u);  // in 8-byte units, as tshark shows it
  EXPECT_FALSE(p.Has("udp.srcport"));
  EXPECT_EQ(p.GetUint("data.len"), 8u);
}

TEST(PcapDecoderTest, UnknownEtherTypeIsData) {
  const DecodedPacket p = Decode(HexBytes("0180 c200 000e 0200 0000 0001 88cc 0207 0402"));
  EXPECT_TRUE(p.complete());
  EXPECT_THAT(LayerNames(p), ElementsAre("eth", "data"));
  EXPECT_EQ(p.GetUint("data.len"), 4u);
}

TEST(PcapDecoderTest, LinuxCookedCapture) {
  const DecodedPacket p = Decode(HexBytes("0004 0001 0006 0200 0000 0001 0000 0800"
                                          "4500 001c 0000 0000 4001 0000 0a00 0001 0a00 0002"
                                          "0800 0000 0001 0001"),
                                 kLinkTypeLinuxSll);
  EXPECT_TRUE(p.complete()) << p.ToString();
  EXPECT_THAT(LayerNames(p), ElementsAre("sll", "ip", "icmp"));
  EXPECT_EQ(p.GetUint("sll.pkttype"), 4u);
  EXPECT_EQ(p.GetString("sll.src.eth"), "02:00:00:00:00:01");
  EXPECT_EQ(p.GetUint("icmp.seq"), 1u);
}

TEST(PcapDecoderTest, UnknownLinkTypeIsNotedAndKeptAsData) {
  const DecodedPacket p = Decode(HexBytes("0102 0304"), /*link_type=*/228);
  EXPECT_FALSE(p.complete());
  EXPECT_THAT(p.errors()[0], HasSubstr("link type 228"));
  EXPECT_EQ(p.GetUint("data.len"), 4u);
}

TEST(PcapDecoderTest, EveryTruncationDecodesPartiallyWithANote) {
  const std::vector<uint8_t> frame = HexBytes(kIcmpEcho);
  for (size_t length = 0; length < frame.size(); ++length) {
    const DecodedPacket p = Decode(std::span(frame).first(length));
    EXPECT_FALSE(p.complete()) << "length " << length;
    for (const DecodedLayer& layer : p.layers()) {
      EXPECT_LE(layer.offset + layer.length, length) << layer.name << " at length " << length;
    }
  }
  EXPECT_TRUE(Decode(frame).complete());
}

TEST(PcapDecoderTest, TruncationNoteNamesLayerOffsetAndSizes) {
  const std::vector<uint8_t> frame = HexBytes(kIcmpEcho);
  const DecodedPacket header_cut = Decode(std::span(frame).first(30));
  ASSERT_EQ(header_cut.errors().size(), 1u);
  EXPECT_EQ(header_cut.errors()[0], "ip at offset 14: truncated: 16 of 20 bytes");
  EXPECT_TRUE(header_cut.Has("eth.type"));
  EXPECT_FALSE(header_cut.Has("ip.src"));

  const DecodedPacket payload_cut = Decode(std::span(frame).first(40));
  EXPECT_EQ(payload_cut.errors()[0],
            "ip at offset 14: truncated: length field says 32 bytes, 26 present");
  EXPECT_EQ(payload_cut.GetUint("icmp.type"), 8u);  // what is there is still decoded
  EXPECT_EQ(payload_cut.GetUint("icmp.seq"), 0u);
  EXPECT_FALSE(payload_cut.Has("icmp.seq"));
}

TEST(PcapDecoderTest, MalformedHeadersAreNoted) {
  struct Case {
    const char* name;
    const char* hex;
    const char* note;
  };
  const Case cases[] = {
      {"ihl below 5",
       "0200 0000 0002 0200 0000 0001 0800 4300 0020 0000 0000 4001 0000 0a00 0001 0a00 0002",
       "header length 12 is below 20"},
      {"IPv6 in an IPv4 EtherType",
       "0200 0000 0002 0200 0000 0001 0800 6000 0000 0000 3a40 0000 0000 0000 0000 0000 0000",
       "version 6 in an IPv4 packet"},
      {"IPv4 total length below header",
       "0200 0000 0002 0200 0000 0001 0800 4500 0010 0000 0000 4001 0000 0a00 0001 0a00 0002",
       "total length 16 is below the header length 20"},
      {"UDP length below 8",
       "0200 0000 0002 0200 0000 0001 0800 4500 001c 0000 0000 4011 0000 0a00 0001 0a00 0002 "
       "1388 0009 0004 0000",
       "length 4 is below 8"},
      {"TCP data offset below 5",
       "0200 0000 0002 0200 0000 0001 0800 4500 0028 0000 0000 4006 0000 0a00 0001 0a00 0002 "
       "9c40 0050 0000 0001 0000 0000 2002 ffff 0000 0000",
       "header length 8 is below 20"},
      {"TCP options cut",
       "0200 0000 0002 0200 0000 0001 0800 4500 0028 0000 0000 4006 0000 0a00 0001 0a00 0002 "
       "9c40 0050 0000 0001 0000 0000 f002 ffff 0000 0000",
       "truncated: 20 of 60 bytes"},
  };
  for (const Case& c : cases) {
    const DecodedPacket p = Decode(HexBytes(c.hex));
    ASSERT_FALSE(p.complete()) << c.name;
    EXPECT_THAT(p.errors()[0], HasSubstr(c.note)) << c.name;
  }
}

TEST(PcapDecoderTest, EmptyFrame) {
  const DecodedPacket p = Decode({});
  EXPECT_THAT(p.layers(), IsEmpty());
  EXPECT_EQ(p.errors().size(), 1u);
  EXPECT_EQ(p.Summary(), "[eth at offset 0: truncated: 0 of 14 bytes]");
}

TEST(PcapDecoderTest, EveryEmittedFieldIsInTheCatalogue) {
  for (const auto& sample : testing::SampleFrames()) {
    const DecodedPacket p = Decode(sample.bytes, sample.link_type);
    EXPECT_TRUE(p.complete()) << sample.name << "\n" << p.ToString();
    for (const DecodedField& field : p.fields()) {
      const FieldSpec* spec = FindFieldSpec(field.name);
      ASSERT_NE(spec, nullptr) << field.name;
      EXPECT_EQ(spec->kind, field.value.kind()) << field.name;
    }
  }
}

}  // namespace
}  // namespace nsmcert::pcap
