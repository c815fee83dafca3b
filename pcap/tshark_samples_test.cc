// Our decoder and builder against Wireshark's dissectors, on the sample frames (no root needed,
// tshark needed): every compared field agrees, and tshark finds every checksum we computed good.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pcap/decoder.h"
#include "pcap/packet_builder.h"
#include "pcap/pcap_file.h"
#include "pcap/testing/frames.h"
#include "pcap/testing/temp_dir.h"
#include "pcap/testing/tshark.h"

namespace nsmcert::pcap {
namespace {

using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class PcapTsharkSamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::HaveTshark()) GTEST_SKIP() << "tshark is not installed";
  }

  // Writes Ethernet frames to a capture file, one millisecond apart.
  std::string WriteFrames(const std::vector<std::vector<uint8_t>>& frames) {
    std::vector<CapturedPacket> packets;
    absl::Time t = absl::FromUnixSeconds(1700000000);
    for (const auto& frame : frames) {
      packets.push_back({t, static_cast<uint32_t>(frame.size()), kLinkTypeEthernet, frame});
      t += absl::Milliseconds(1);
    }
    const std::string path = dir_.File("frames.pcap");
    EXPECT_TRUE(WritePcapFile(path, kLinkTypeEthernet, packets).ok());
    return path;
  }

  testing::ScopedTempDir dir_;
};

std::vector<std::vector<uint8_t>> EthernetSamples() {
  std::vector<std::vector<uint8_t>> frames;
  for (const auto& sample : testing::SampleFrames()) {
    if (sample.link_type == kLinkTypeEthernet) frames.push_back(sample.bytes);
  }
  return frames;
}

TEST_F(PcapTsharkSamplesTest, DecodedFieldsAgreeWithTshark) {
  const std::vector<std::vector<uint8_t>> frames = EthernetSamples();
  absl::StatusOr<size_t> compared = testing::CompareFileWithTshark(WriteFrames(frames));
  ASSERT_TRUE(compared.ok()) << compared.status();
  EXPECT_EQ(*compared, frames.size());
}

TEST_F(PcapTsharkSamplesTest, TsharkFindsOurChecksumsGood) {
  // Checksum status as tshark reports it: 1 good, 0 bad, 2 not verified.
  const std::vector<std::string_view> fields = {"ip.checksum.status", "icmp.checksum.status",
                                                "icmpv6.checksum.status", "udp.checksum.status",
                                                "tcp.checksum.status"};
  auto rows = testing::RunTshark(WriteFrames(EthernetSamples()), fields,
                                 {"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                                  "-o", "tcp.check_checksum:TRUE"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  int verified = 0;
  for (size_t i = 0; i < rows->size(); ++i) {
    for (std::string_view field : fields) {
      const auto& values = (*rows)[i].at(std::string(field));
      // Checksums inside an ICMP error's quote cover bytes that are not there: not verifiable.
      EXPECT_THAT(values, Each(::testing::AnyOf("1", "2"))) << "packet " << i + 1 << " " << field;
      for (const auto& value : values) verified += value == "1";
    }
  }
  EXPECT_GE(verified, 15);
}

TEST_F(PcapTsharkSamplesTest, TsharkSeesABadChecksumWeCrafted) {
  auto frame = PacketBuilder()
                   .Ethernet({})
                   .Ipv4({.src = "10.0.0.1", .dst = "10.0.0.2", .checksum = 0x1234})
                   .Udp({.src_port = 1, .dst_port = 2, .checksum = 0x4321})
                   .Build();
  ASSERT_TRUE(frame.ok());
  const std::vector<std::string_view> fields = {"ip.checksum.status", "udp.checksum.status"};
  auto rows = testing::RunTshark(WriteFrames({*frame}), fields,
                                 {"-o", "ip.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE"});
  ASSERT_TRUE(rows.ok()) << rows.status();
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_THAT((*rows)[0].at("ip.checksum.status"), ElementsAre("0"));
  EXPECT_THAT((*rows)[0].at("udp.checksum.status"), ElementsAre("0"));
}

TEST_F(PcapTsharkSamplesTest, DisagreementIsReported) {
  // The comparison itself must be able to fail: feed it a row that says otherwise.
  const auto frames = EthernetSamples();
  auto rows = testing::RunTshark(WriteFrames({frames[0]}), testing::ComparedFields());
  ASSERT_TRUE(rows.ok()) << rows.status();
  testing::TsharkRow row = (*rows)[0];
  EXPECT_THAT(testing::CompareWithTshark(Decode(frames[0]), row), IsEmpty());
  row["ip.ttl"] = {"63"};
  row["icmp.seq"] = {};
  EXPECT_THAT(testing::CompareWithTshark(Decode(frames[0]), row),
              ElementsAre("icmp.seq: ours [1] tshark []", "ip.ttl: ours [64] tshark [63]"));
}

}  // namespace
}  // namespace nsmcert::pcap
