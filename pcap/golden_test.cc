// The golden captures in fixtures/pcap (real traffic, captured with tcpdump; see make-golden.sh
// there) decoded by us and compared with tshark's reading stored beside them. Needs neither root
// nor tshark, so the agreement is checked on every build.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "pcap/decoder.h"
#include "pcap/packet_source.h"
#include "pcap/packet_verifier.h"
#include "pcap/pcap_file.h"
#include "pcap/testing/tshark.h"

namespace nsmcert::pcap {
namespace {

std::string FixturePath(std::string_view name) {
  return std::string(NSMCERT_PCAP_FIXTURES_DIR) + "/" + std::string(name);
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class PcapGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(PcapGoldenTest, DecodeAgreesWithStoredTsharkFields) {
  const std::string name = GetParam();
  auto file = ReadPcapFile(FixturePath(name + ".pcap"));
  ASSERT_TRUE(file.ok()) << file.status();
  auto rows = testing::ParseTsharkFields(ReadText(FixturePath(name + ".tshark.tsv")));
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), file->packets.size());
  ASSERT_GE(rows->size(), 10u);
  for (size_t i = 0; i < rows->size(); ++i) {
    const DecodedPacket decoded = Decode(file->packets[i].data, file->packets[i].link_type);
    EXPECT_TRUE(decoded.complete()) << "packet " << i + 1 << ": " << decoded.Summary();
    EXPECT_THAT(testing::CompareWithTshark(decoded, (*rows)[i]), ::testing::IsEmpty())
        << "packet " << i + 1 << ": " << decoded.Summary();
  }
}

INSTANTIATE_TEST_SUITE_P(Pcap, PcapGoldenTest, ::testing::Values("ping-veth", "vxlan-icmp"));

// Expectations run over a recorded file exactly as over a live capture.
TEST(PcapGoldenReplayTest, ExpectationsHoldOnTheRecordedVxlanTunnel) {
  auto file = ReadPcapFile(FixturePath("vxlan-icmp.pcap"));
  ASSERT_TRUE(file.ok()) << file.status();
  ReplayPacketSource source(file->packets);
  PacketVerifier verify(&source);
  const auto within = absl::Seconds(2);
  EXPECT_TRUE(verify
                  .ExpectPackets(PacketTemplate()
                                     .With("vxlan.vni", 4242)
                                     .With("inner.ip.dst", "10.78.0.2")
                                     .With("inner.icmp.type", 8),
                                 3, within)
                  .ok());
  EXPECT_TRUE(verify
                  .ExpectPackets(PacketTemplate()
                                     .With("vxlan.vni", 4242)
                                     .With("inner.ip.src", "10.78.0.2")
                                     .With("inner.icmp.type", 0),
                                 3, within)
                  .ok());
  EXPECT_TRUE(verify.ExpectNoPacket(PacketTemplate().Lacks("vxlan.vni"), within).ok());
  EXPECT_FALSE(verify.ExpectNoPacket(PacketTemplate().Has("inner.arp.opcode"), within).ok());
  verify.Ignore(PacketTemplate().Has("inner.arp.opcode"));
  verify.Ignore(PacketTemplate().Has("inner.icmpv6.type"));
  EXPECT_TRUE(verify.ExpectNoOtherPackets(within).ok());
}

}  // namespace
}  // namespace nsmcert::pcap
