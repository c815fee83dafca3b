#include "pcap/packet_source.h"

#include <gtest/gtest.h>

namespace nsmcert::pcap {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(50);

CapturedPacket Packet(absl::Duration at, uint8_t tag) {
  CapturedPacket packet;
  packet.timestamp = kStart + at;
  packet.data = {tag};
  return packet;
}

TEST(PcapReplayPacketSourceTest, ReleasesPacketsInTimeOrderOnAVirtualClock) {
  ReplayPacketSource source({Packet(absl::Seconds(2), 2), Packet(absl::Seconds(1), 1)});
  EXPECT_EQ(source.Now(), kStart + absl::Seconds(1));  // starts at the first packet
  EXPECT_EQ(source.remaining(), 2u);
  auto first = source.NextPacket(kStart);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->data[0], 1);
  EXPECT_FALSE(source.NextPacket(kStart + absl::Milliseconds(1500)).has_value());
  EXPECT_EQ(source.Now(), kStart + absl::Milliseconds(1500));  // waited to the deadline
  auto second = source.NextPacket(kStart + absl::Seconds(3));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->data[0], 2);
  EXPECT_EQ(source.Now(), kStart + absl::Seconds(2));  // woke at the arrival
  EXPECT_FALSE(source.NextPacket(absl::InfiniteFuture()).has_value());
}

TEST(PcapReplayPacketSourceTest, ClockNeverGoesBack) {
  ReplayPacketSource source({}, kStart);
  source.AdvanceTo(kStart + absl::Seconds(5));
  source.AdvanceTo(kStart);
  EXPECT_FALSE(source.NextPacket(kStart).has_value());
  EXPECT_EQ(source.Now(), kStart + absl::Seconds(5));
}

TEST(PcapReplayPacketSourceTest, EqualTimestampsKeepTheirOrder) {
  ReplayPacketSource source({Packet(absl::ZeroDuration(), 7), Packet(absl::ZeroDuration(), 8)});
  EXPECT_EQ(source.NextPacket(kStart)->data[0], 7);
  EXPECT_EQ(source.NextPacket(kStart)->data[0], 8);
}

}  // namespace
}  // namespace nsmcert::pcap
