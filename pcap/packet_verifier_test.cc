// Expectations against recorded packets on a virtual clock: timeouts are exact and nothing sleeps.
#include "pcap/packet_verifier.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pcap/packet_builder.h"

namespace nsmcert::pcap {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const absl::Time kStart = absl::FromUnixSeconds(1000);

CapturedPacket At(absl::Duration after_start, const PacketBuilder& builder) {
  CapturedPacket packet;
  packet.timestamp = kStart + after_start;
  packet.data = builder.Build().value();
  packet.original_length = static_cast<uint32_t>(packet.data.size());
  return packet;
}

PacketBuilder Echo(std::string_view dst, uint16_t seq, uint8_t type = 8) {
  return std::move(PacketBuilder()
                       .Ethernet({.dst = "02:00:00:00:00:02", .src = "02:00:00:00:00:01"})
                       .Ipv4({.src = "10.0.0.1", .dst = std::string(dst)})
                       .Icmp({.type = type, .ident = 1, .seq = seq}));
}

PacketBuilder Arp() {
  return std::move(PacketBuilder()
                       .Ethernet({.src = "02:00:00:00:00:01"})
                       .Arp({.sender_ip = "10.0.0.1", .target_ip = "10.0.0.2"}));
}

PacketTemplate EchoTo(std::string_view dst, uint16_t seq) {
  return PacketTemplate().With("ip.dst", dst).With("icmp.type", 8).With("icmp.seq", seq);
}

TEST(PcapPacketVerifierTest, PacketWithinTimeoutPassesWithoutWaitingTheFullTimeout) {
  ReplayPacketSource source({At(absl::Milliseconds(100), Echo("10.0.0.2", 1))}, kStart);
  PacketVerifier verify(&source);
  EXPECT_TRUE(verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Seconds(1)).ok());
  EXPECT_EQ(source.Now(), kStart + absl::Milliseconds(100));
  EXPECT_TRUE(verify.unclaimed().empty());
}

TEST(PcapPacketVerifierTest, PacketAfterTimeoutFailsThenALongerWaitFindsIt) {
  ReplayPacketSource source({At(absl::Seconds(2), Echo("10.0.0.2", 1))}, kStart);
  PacketVerifier verify(&source);
  absl::Status late = verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Seconds(1));
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(late.message(), HasSubstr("no unclaimed packet arrived"));
  EXPECT_EQ(source.Now(), kStart + absl::Seconds(1));
  EXPECT_TRUE(verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Seconds(5)).ok());
}

TEST(PcapPacketVerifierTest, ExpectedPacketsMayArriveInAnyOrder) {
  ReplayPacketSource source({At(absl::Milliseconds(1), Echo("10.0.0.2", 2)),
                             At(absl::Milliseconds(2), Echo("10.0.0.2", 1))},
                            kStart);
  PacketVerifier verify(&source);
  EXPECT_TRUE(verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Seconds(1)).ok());
  EXPECT_EQ(verify.unclaimed().size(), 1u);  // seq 2 came first and waits to be claimed
  EXPECT_TRUE(verify.ExpectPacket(EchoTo("10.0.0.2", 2), absl::Seconds(1)).ok());
  EXPECT_TRUE(verify.ExpectNoOtherPackets().ok());
  EXPECT_EQ(verify.packets_seen(), 2u);
}

TEST(PcapPacketVerifierTest, ExpectPacketsCountsMatches) {
  ReplayPacketSource source({At(absl::Milliseconds(1), Echo("10.0.0.2", 1)),
                             At(absl::Milliseconds(2), Echo("10.0.0.2", 2)),
                             At(absl::Milliseconds(3), Echo("10.0.0.2", 3))},
                            kStart);
  PacketVerifier verify(&source);
  const PacketTemplate any_echo = PacketTemplate().With("icmp.type", 8);
  EXPECT_TRUE(verify.ExpectPackets(any_echo, 2, absl::Seconds(1)).ok());
  absl::Status too_many = verify.ExpectPackets(any_echo, 2, absl::Seconds(1));
  EXPECT_EQ(too_many.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(too_many.message(), HasSubstr("only 1 of 2 packets"));
}

TEST(PcapPacketVerifierTest, FailureShowsClosestPacketsAndTheirDifferences) {
  ReplayPacketSource source(
      {At(absl::Milliseconds(1), Arp()), At(absl::Milliseconds(2), Echo("10.0.0.3", 7)),
       At(absl::Milliseconds(3), Echo("10.0.0.2", 7))},
      kStart);
  PacketVerifier verify(&source, {.closest_shown = 2});
  absl::Status missing = verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Milliseconds(500));
  EXPECT_EQ(missing.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(missing.message(),
            "ExpectPacket: no packet matching {ip.dst == 10.0.0.2, icmp.type == 8, icmp.seq == 1} "
            "within 500ms; 3 unclaimed packet(s), closest:\n"
            "  #3 at +2ms: eth 02:00:00:00:00:01 > 02:00:00:00:00:02 | "
            "ip 10.0.0.1 > 10.0.0.2 ttl 64 proto 1 | icmp 8/0 id 1 seq 7\n"
            "      icmp.seq: want 1, got 7\n"
            "  #2 at +1ms: eth 02:00:00:00:00:01 > 02:00:00:00:00:02 | "
            "ip 10.0.0.1 > 10.0.0.3 ttl 64 proto 1 | icmp 8/0 id 1 seq 7\n"
            "      ip.dst: want 10.0.0.2, got 10.0.0.3\n"
            "      icmp.seq: want 1, got 7");
}

TEST(PcapPacketVerifierTest, ExpectNoPacketWatchesItsOwnShortTimeout) {
  ReplayPacketSource source({At(absl::Milliseconds(100), Echo("10.0.0.2", 1)),
                             At(absl::Seconds(10), Echo("10.0.0.9", 1))},
                            kStart);
  PacketVerifier verify(&source, {.negative_timeout = absl::Milliseconds(300)});
  const PacketTemplate leak = PacketTemplate().With("ip.dst", "10.0.0.9");
  EXPECT_TRUE(verify.ExpectNoPacket(leak).ok());
  EXPECT_EQ(source.Now(), kStart + absl::Milliseconds(300));
  // The packet that did come stays unclaimed for later checks.
  EXPECT_EQ(verify.unclaimed().size(), 1u);
  EXPECT_TRUE(verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Seconds(0)).ok());
}

TEST(PcapPacketVerifierTest, ExpectNoPacketFailsOnAnArrivalOrAnUnclaimedPacket) {
  ReplayPacketSource source({At(absl::Milliseconds(50), Echo("10.0.0.9", 1)),
                             At(absl::Milliseconds(60), Echo("10.0.0.2", 1))},
                            kStart);
  PacketVerifier verify(&source);
  const PacketTemplate leak = PacketTemplate().With("ip.dst", "10.0.0.9");
  absl::Status arrived = verify.ExpectNoPacket(leak, absl::Seconds(1));
  EXPECT_EQ(arrived.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(arrived.message(), HasSubstr("ExpectNoPacket: a packet matches {ip.dst == 10.0.0.9}: "
                                           "#1 at +0: "));
  EXPECT_EQ(source.Now(), kStart + absl::Milliseconds(50));  // it stopped at the offender
  EXPECT_FALSE(verify.ExpectNoPacket(leak, absl::ZeroDuration()).ok());  // still unclaimed
}

TEST(PcapPacketVerifierTest, ExpectNoOtherPacketsListsUnexpectedOnesAndHonoursIgnore) {
  ReplayPacketSource source(
      {At(absl::Milliseconds(1), Arp()), At(absl::Milliseconds(2), Echo("10.0.0.2", 1)),
       At(absl::Milliseconds(3), Echo("10.0.0.2", 1, /*type=*/0))},
      kStart);
  PacketVerifier verify(&source);
  EXPECT_TRUE(verify.ExpectPacket(EchoTo("10.0.0.2", 1), absl::Seconds(1)).ok());
  absl::Status others = verify.ExpectNoOtherPackets();
  EXPECT_EQ(others.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(others.message(), HasSubstr("1 unexpected packet(s):\n  #1 at +0: eth"));
  EXPECT_THAT(others.message(), HasSubstr("arp who-has 10.0.0.2"));
  verify.Ignore(PacketTemplate().Has("arp.opcode"));
  // The reply (#3) arrives within the negative timeout and is not ignored.
  absl::Status reply = verify.ExpectNoOtherPackets();
  EXPECT_THAT(reply.message(), HasSubstr("#3"));
  EXPECT_THAT(reply.message(), Not(HasSubstr("#1")));
  verify.Ignore(PacketTemplate().With("icmp.type", 0));
  EXPECT_TRUE(verify.ExpectNoOtherPackets().ok());
}

TEST(PcapPacketVerifierTest, FlushForgetsWhatCameBeforeTheStimulus) {
  ReplayPacketSource source(
      {At(absl::Milliseconds(0), Echo("10.0.0.9", 1)),
       At(absl::Milliseconds(10), Echo("10.0.0.9", 2)), At(absl::Seconds(1), Echo("10.0.0.2", 3))},
      kStart);
  PacketVerifier verify(&source);
  source.AdvanceTo(kStart + absl::Milliseconds(500));  // earlier traffic is queued by now
  verify.Flush();
  EXPECT_EQ(verify.packets_seen(), 2u);
  EXPECT_TRUE(verify.unclaimed().empty());
  EXPECT_TRUE(verify.ExpectNoPacket(PacketTemplate().With("ip.dst", "10.0.0.9")).ok());
  absl::Status wrong = verify.ExpectNoOtherPackets(absl::Seconds(1));
  EXPECT_THAT(wrong.message(), HasSubstr("#3 at +0: "));  // times count from the flush on
}

TEST(PcapPacketVerifierTest, MalformedTemplateIsAnErrorNotAFailure) {
  ReplayPacketSource source({At(absl::Milliseconds(1), Echo("10.0.0.2", 1))}, kStart);
  PacketVerifier verify(&source);
  const PacketTemplate typo = PacketTemplate().With("icmp.sequence", 1);
  EXPECT_EQ(verify.ExpectPacket(typo, absl::Seconds(1)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(verify.ExpectNoPacket(typo).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(verify.packets_seen(), 0u);  // nothing was consumed
}

TEST(PcapPacketVerifierTest, MalformedPacketsAreShownWithTheirNotes) {
  CapturedPacket runt;
  runt.timestamp = kStart;
  runt.data = {0x02, 0x00};
  ReplayPacketSource source({runt}, kStart);
  PacketVerifier verify(&source);
  absl::Status status = verify.ExpectNoOtherPackets();
  EXPECT_THAT(status.message(), HasSubstr("[eth at offset 0: truncated: 2 of 14 bytes]"));
}

}  // namespace
}  // namespace nsmcert::pcap
