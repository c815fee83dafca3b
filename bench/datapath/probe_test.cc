#include "bench/datapath/probe.h"

#include <vector>

#include "gtest/gtest.h"

namespace nsmcert::bench {
namespace {

TEST(ProbeTest, RoundTripsEveryField) {
  std::vector<std::uint8_t> buf(64, 0xee);
  ProbeHeader in{0xbeef, 0xfffffffe, 0x0123456789abcdefULL};
  WriteProbe(in, buf.data());
  std::optional<ProbeHeader> out = ReadProbe(buf.data(), buf.size());
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(*out, in);
  EXPECT_EQ(buf[kProbeHeaderSize], 0xee) << "writes only the header";
}

TEST(ProbeTest, IsBigEndianOnTheWire) {
  std::vector<std::uint8_t> buf(kProbeHeaderSize);
  WriteProbe({1, 2, 3}, buf.data());
  EXPECT_EQ(buf, (std::vector<std::uint8_t>{0x4e, 0x42, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3}));
}

TEST(ProbeTest, RejectsShortOrForeignPayloads) {
  std::vector<std::uint8_t> buf(kProbeHeaderSize);
  WriteProbe({1, 2, 3}, buf.data());
  EXPECT_FALSE(ReadProbe(buf.data(), kProbeHeaderSize - 1).has_value());
  buf[0] ^= 0xff;
  EXPECT_FALSE(ReadProbe(buf.data(), buf.size()).has_value());
}

TEST(ProbeTest, PayloadForRfc2544FrameSizes) {
  EXPECT_EQ(*UdpPayloadForFrame(64), 18u);
  EXPECT_EQ(*UdpPayloadForFrame(1518), 1472u);
  EXPECT_EQ(*UdpPayloadForFrame(128, kernel::IpFamily::kV6), 62u);
  for (size_t frame : kRfc2544FrameSizes) {
    absl::StatusOr<size_t> payload = UdpPayloadForFrame(frame);
    ASSERT_TRUE(payload.ok()) << frame;
    EXPECT_GE(*payload, kProbeHeaderSize);
  }
}

TEST(ProbeTest, PayloadRejectsFramesOutOfRange) {
  absl::StatusOr<size_t> tiny = UdpPayloadForFrame(60);
  EXPECT_EQ(tiny.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tiny.status().message().find("frame size 60"), absl::string_view::npos);
  // 64-byte IPv6 frames have no room for the header.
  EXPECT_FALSE(UdpPayloadForFrame(64, kernel::IpFamily::kV6).ok());
  EXPECT_FALSE(UdpPayloadForFrame(1519).ok());
}

}  // namespace
}  // namespace nsmcert::bench
