#include "pcap/checksum.h"

#include <gtest/gtest.h>

#include "pcap/testing/frames.h"

namespace nsmcert::pcap {
namespace {

using ::nsmcert::pcap::testing::HexBytes;

TEST(PcapChecksumTest, MatchesAKernelComputedIpv4HeaderChecksum) {
  // An IPv4 header the kernel sent (checksum 0xea86), with its checksum field zeroed.
  const auto header = HexBytes("4500 007a 7bd8 0000 4011 0000 0a09 0002 0a09 0001");
  EXPECT_EQ(InternetChecksum(header), 0xea86);
  // Summing a header that holds its checksum gives 0.
  const auto whole = HexBytes("4500 007a 7bd8 0000 4011 ea86 0a09 0002 0a09 0001");
  EXPECT_EQ(InternetChecksum(whole), 0);
}

TEST(PcapChecksumTest, OddLengthsPadWithZeroAndPiecesJoin) {
  const auto data = HexBytes("0102 0304 05");
  // 0x0102 + 0x0304 + 0x0500 = 0x0906 -> ~ = 0xf6f9
  EXPECT_EQ(InternetChecksum(data), 0xf6f9);
  ChecksumAccumulator pieces;
  pieces.Add(std::span(data).first(3));  // an odd piece continues into the next
  pieces.Add(std::span(data).subspan(3));
  EXPECT_EQ(pieces.Finish(), 0xf6f9);
}

TEST(PcapChecksumTest, CarriesFold) {
  const auto data = HexBytes("ffff ffff 0001");
  // 0xffff + 0xffff + 0x0001 = 0x1ffff, which folds to 0x0001 (end-around carry twice)
  ChecksumAccumulator sum;
  sum.Add(data);
  EXPECT_EQ(sum.Finish(), static_cast<uint16_t>(~0x0001u & 0xffff));
  ChecksumAccumulator words;
  words.AddU32(0xffffffff);
  words.AddU16(0x0001);
  EXPECT_EQ(words.Finish(), sum.Finish());
}

}  // namespace
}  // namespace nsmcert::pcap
