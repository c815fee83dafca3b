#include "pcap/pcap_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "pcap/testing/frames.h"

namespace nsmcert::pcap {
namespace {

using ::testing::HasSubstr;

class PcapFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/pcap_file_test.XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(std::string_view name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(PcapFileTest, WritesAndReadsBackEveryFieldOfEveryPacket) {
  std::vector<CapturedPacket> packets;
  absl::Time t = absl::FromUnixMicros(1700000000123456);
  for (const auto& sample : testing::SampleFrames()) {
    if (sample.link_type != kLinkTypeEthernet) continue;
    CapturedPacket packet;
    packet.timestamp = t;
    packet.data = sample.bytes;
    packet.original_length = static_cast<uint32_t>(sample.bytes.size());
    packets.push_back(packet);
    t += absl::Microseconds(1500);
  }
  packets[1].original_length += 100;  // a frame cut by the snapshot length
  const std::string path = Path("samples.pcap");
  ASSERT_TRUE(WritePcapFile(path, kLinkTypeEthernet, packets).ok());

  absl::StatusOr<PcapFileContents> read = ReadPcapFile(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->link_type, kLinkTypeEthernet);
  ASSERT_EQ(read->packets.size(), packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    EXPECT_EQ(read->packets[i].timestamp, packets[i].timestamp) << i;
    EXPECT_EQ(read->packets[i].original_length, packets[i].original_length) << i;
    EXPECT_EQ(read->packets[i].data, packets[i].data) << i;
    EXPECT_EQ(read->packets[i].link_type, kLinkTypeEthernet) << i;
  }
}

TEST_F(PcapFileTest, FileHasTheClassicPcapHeader) {
  ASSERT_TRUE(WritePcapFile(Path("empty.pcap"), kLinkTypeLinuxSll, {}).ok());
  std::ifstream in(Path("empty.pcap"), std::ios::binary);
  std::vector<unsigned char> header(24);
  in.read(reinterpret_cast<char*>(header.data()), 24);
  ASSERT_EQ(in.gcount(), 24);
  // Magic a1b2c3d4 (microseconds) in host order, version 2.4, link type 113.
  const uint32_t magic = header[0] | header[1] << 8 | header[2] << 16 | header[3] << 24;
  EXPECT_EQ(magic, 0xa1b2c3d4u);
  EXPECT_EQ(header[4] | header[5] << 8, 2);
  EXPECT_EQ(header[6] | header[7] << 8, 4);
  EXPECT_EQ(header[20] | header[21] << 8, kLinkTypeLinuxSll);
  auto read = ReadPcapFile(Path("empty.pcap"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->link_type, kLinkTypeLinuxSll);
  EXPECT_TRUE(read->packets.empty());
}

TEST_F(PcapFileTest, WriterRejectsAnotherLinkTypeAndWritesAfterClose) {
  auto writer = PcapFileWriter::Create(Path("w.pcap"), kLinkTypeEthernet);
  ASSERT_TRUE(writer.ok());
  CapturedPacket sll;
  sll.link_type = kLinkTypeLinuxSll;
  EXPECT_EQ((*writer)->Write(sll).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*writer)->Close().ok());
  EXPECT_TRUE((*writer)->Close().ok());
  EXPECT_EQ((*writer)->Write(CapturedPacket{}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(PcapFileTest, ErrorsNameTheFile) {
  auto missing = ReadPcapFile(Path("missing.pcap"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("missing.pcap"));

  std::ofstream(Path("junk.pcap")) << "this is not a capture file";
  auto junk = ReadPcapFile(Path("junk.pcap"));
  EXPECT_EQ(junk.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(junk.status().message(), HasSubstr("junk.pcap"));

  auto unwritable = PcapFileWriter::Create(Path("no/such/dir/x.pcap"), kLinkTypeEthernet);
  EXPECT_FALSE(unwritable.ok());
  EXPECT_THAT(unwritable.status().message(), HasSubstr("no/such/dir/x.pcap"));
}

TEST_F(PcapFileTest, TruncatedFileIsDataLossNamingTheFile) {
  std::vector<CapturedPacket> packets(3);
  for (auto& packet : packets) {
    packet.data = testing::SampleFrames()[0].bytes;
    packet.original_length = static_cast<uint32_t>(packet.data.size());
  }
  ASSERT_TRUE(WritePcapFile(Path("cut.pcap"), kLinkTypeEthernet, packets).ok());
  const auto size = std::filesystem::file_size(Path("cut.pcap"));
  std::filesystem::resize_file(Path("cut.pcap"), size - 10);
  auto read = ReadPcapFile(Path("cut.pcap"));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(read.status().message(), HasSubstr("cut.pcap"));
}

}  // namespace
}  // namespace nsmcert::pcap
