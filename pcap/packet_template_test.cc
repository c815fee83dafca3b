#include "pcap/packet_template.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pcap/packet_builder.h"

namespace nsmcert::pcap {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::vector<uint8_t> Echo(std::string_view dst, uint8_t ttl, uint16_t seq) {
  return PacketBuilder()
      .Ethernet({.dst = "02:00:00:00:00:02", .src = "02:00:00:00:00:01"})
      .Ipv4({.src = "10.0.0.1", .dst = std::string(dst), .ttl = ttl})
      .Icmp({.type = 8, .ident = 1, .seq = seq})
      .Payload("payload")
      .Build()
      .value();
}

TEST(PcapPacketTemplateTest, EmptyTemplateMatchesEverything) {
  EXPECT_TRUE(PacketTemplate().Matches(Decode(Echo("10.0.0.2", 64, 1))));
  EXPECT_TRUE(PacketTemplate().Matches(Decode({})));
  EXPECT_EQ(PacketTemplate().ToString(), "{}");
}

TEST(PcapPacketTemplateTest, FieldConditions) {
  const DecodedPacket echo = Decode(Echo("10.0.0.2", 64, 1));
  EXPECT_TRUE(PacketTemplate().With("ip.dst", "10.0.0.2").With("icmp.type", 8).Matches(echo));
  EXPECT_FALSE(PacketTemplate().With("ip.dst", "10.0.0.3").Matches(echo));
  EXPECT_TRUE(PacketTemplate().Has("icmp.seq").Lacks("vxlan.vni").Matches(echo));
  EXPECT_FALSE(PacketTemplate().Has("udp.dstport").Matches(echo));
  EXPECT_FALSE(PacketTemplate().Lacks("icmp.seq").Matches(echo));
  // A later condition on the same field replaces the earlier one.
  EXPECT_TRUE(PacketTemplate().With("ip.ttl", 1).With("ip.ttl", 64).Matches(echo));
}

TEST(PcapPacketTemplateTest, FromFrameMatchesOnlyTheSameFrameUntilMasked) {
  const PacketTemplate exact = PacketTemplate::FromFrame(Echo("10.0.0.2", 64, 1));
  EXPECT_TRUE(exact.Matches(Decode(Echo("10.0.0.2", 64, 1))));
  const DecodedPacket routed = Decode(Echo("10.0.0.2", 63, 1));  // one hop later
  EXPECT_FALSE(exact.Matches(routed));
  EXPECT_THAT(exact.Diff(routed), ElementsAre(FieldDiff{"ip.ttl", "64", "63"},
                                              FieldDiff{"ip.checksum", "0x66d8", "0x67d8"}));
  PacketTemplate masked = exact;
  masked.DontCare("ip.ttl").DontCare("ip.checksum");
  EXPECT_TRUE(masked.Matches(routed));
  EXPECT_FALSE(masked.Matches(Decode(Echo("10.0.0.2", 64, 2))));
  EXPECT_TRUE(PacketTemplate(exact).DontCare("ip.*").DontCare("icmp.*").Matches(
      Decode(Echo("10.0.0.9", 1, 9))));
  EXPECT_EQ(PacketTemplate(exact).DontCare("*").size(), 0u);
}

TEST(PcapPacketTemplateTest, DiffShowsPresenceConditions) {
  const DecodedPacket echo = Decode(Echo("10.0.0.2", 64, 1));
  const PacketTemplate t =
      PacketTemplate().Has("vxlan.vni").Lacks("icmp.seq").With("inner.ip.src", "10.1.0.1");
  EXPECT_THAT(t.Diff(echo), ElementsAre(FieldDiff{"vxlan.vni", "(present)", "(absent)"},
                                        FieldDiff{"icmp.seq", "(absent)", "1"},
                                        FieldDiff{"inner.ip.src", "10.1.0.1", "(absent)"}));
  EXPECT_EQ(t.Diff(echo)[0].ToString(), "vxlan.vni: want (present), got (absent)");
  EXPECT_THAT(PacketTemplate().With("icmp.seq", 1).Diff(echo), IsEmpty());
  EXPECT_EQ(t.ToString(), "{has(vxlan.vni), lacks(icmp.seq), inner.ip.src == 10.1.0.1}");
}

TEST(PcapPacketTemplateTest, MistakesAreKeptAndNeverMatch) {
  const DecodedPacket echo = Decode(Echo("10.0.0.2", 64, 1));
  PacketTemplate typo = PacketTemplate().With("ip.dts", "10.0.0.2");
  EXPECT_EQ(typo.status().message(), "unknown field 'ip.dts'");
  EXPECT_FALSE(typo.Matches(echo));

  PacketTemplate bad_value = PacketTemplate().With("ip.dst", "10.0.0");
  EXPECT_EQ(bad_value.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(bad_value.Matches(echo));

  PacketTemplate wrong_kind = PacketTemplate().With("ip.src", 5);
  EXPECT_EQ(wrong_kind.status().message(), "field 'ip.src' holds a IPv4 address, not a number");

  PacketTemplate mask_typo = PacketTemplate::FromFrame(Echo("10.0.0.2", 64, 1)).DontCare("ip.tll");
  EXPECT_EQ(mask_typo.status().message(), "unknown field 'ip.tll'");

  // The first mistake is the one reported.
  EXPECT_EQ(PacketTemplate().Has("a.b").Has("c.d").status().message(), "unknown field 'a.b'");
}

}  // namespace
}  // namespace nsmcert::pcap
