// Live capture in network namespaces (needs root): two namespaces joined by a veth pair, real
// traffic from ping, expectations that pass and fail where they should.
#include "pcap/capture.h"

#include <fcntl.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "pcap/packet_verifier.h"
#include "pcap/pcap_file.h"
#include "pcap/testing/netns_fixture.h"
#include "pcap/testing/temp_dir.h"

namespace nsmcert::pcap {
namespace {

using ::testing::HasSubstr;
using testing::VethPair;

PacketTemplate EchoRequestToB() {
  return PacketTemplate().With("ip.dst", VethPair::kIpB).With("icmp.type", 8);
}
PacketTemplate EchoReplyFromB() {
  return PacketTemplate().With("ip.src", VethPair::kIpB).With("icmp.type", 0);
}

class PcapCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces, capture)";
    auto pair = VethPair::Create();
    ASSERT_TRUE(pair.ok()) << pair.status();
    pair_ = *std::move(pair);
  }

  absl::StatusOr<std::unique_ptr<Capture>> StartOnA(std::string filter, std::string file = "") {
    return Capture::Start(pair_.a->ref(), {.interface = std::string(VethPair::kInterface),
                                           .filter = std::move(filter),
                                           .pcap_path = std::move(file)});
  }

  absl::Status PingB(int count) {
    return pair_.a
        ->Exec({"ping", "-n", "-q", "-c", std::to_string(count), "-i", "0.05", "-W", "2",
                std::string(VethPair::kIpB)})
        .status();
  }

  VethPair pair_;
  testing::ScopedTempDir dir_;
};

TEST_F(PcapCaptureTest, PingIsCapturedInMemoryAndInAFile) {
  const std::string file = dir_.File("ping.pcap");
  auto capture = StartOnA("icmp", file);
  ASSERT_TRUE(capture.ok()) << capture.status();
  EXPECT_EQ((*capture)->link_type(), kLinkTypeEthernet);
  PacketVerifier verify(capture->get());
  verify.Flush();
  ASSERT_TRUE(PingB(3).ok());

  EXPECT_TRUE(verify.ExpectPackets(EchoRequestToB(), 3, absl::Seconds(2)).ok());
  EXPECT_TRUE(verify.ExpectPackets(EchoReplyFromB(), 3, absl::Seconds(2)).ok());
  EXPECT_TRUE(verify.ExpectNoOtherPackets().ok());  // the filter let ICMP only through

  ASSERT_TRUE((*capture)->Stop().ok());
  EXPECT_FALSE((*capture)->running());
  const std::vector<CapturedPacket> in_memory = (*capture)->Packets();
  EXPECT_EQ(in_memory.size(), 6u);
  EXPECT_EQ((*capture)->stats().captured, 6u);
  EXPECT_EQ((*capture)->stats().dropped_by_kernel, 0u);
  auto in_file = ReadPcapFile(file);
  ASSERT_TRUE(in_file.ok()) << in_file.status();
  ASSERT_EQ(in_file->packets.size(), in_memory.size());
  for (size_t i = 0; i < in_memory.size(); ++i) {
    EXPECT_EQ(in_file->packets[i].data, in_memory[i].data) << i;
    EXPECT_EQ(in_file->packets[i].timestamp, in_memory[i].timestamp) << i;
  }
}

TEST_F(PcapCaptureTest, ExpectationsPassAndFailOnRealTraffic) {
  auto capture = StartOnA("");  // everything, IPv6 neighbour discovery included
  ASSERT_TRUE(capture.ok()) << capture.status();
  PacketVerifier verify(capture->get());
  verify.Flush();
  ASSERT_TRUE(PingB(3).ok());

  EXPECT_TRUE(verify.ExpectPacket(EchoReplyFromB().With("icmp.seq", 3), absl::Seconds(2)).ok());
  EXPECT_TRUE(verify.ExpectNoPacket(PacketTemplate().With("ip.dst", "10.77.0.99")).ok());

  // Negative: the echo requests are there and unclaimed.
  absl::Status unwanted = verify.ExpectNoPacket(EchoRequestToB());
  EXPECT_EQ(unwanted.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unwanted.message(), HasSubstr("ip 10.77.0.1 > 10.77.0.2"));

  // Negative: nothing goes to .99; the closest packets and the differing field are shown.
  absl::Status missing = verify.ExpectPacket(
      PacketTemplate().With("ip.dst", "10.77.0.99").With("icmp.type", 8), absl::Milliseconds(200));
  EXPECT_EQ(missing.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(missing.message(), HasSubstr("ip.dst: want 10.77.0.99, got 10.77.0.2"));

  // Negative: ARP and unclaimed ICMP are "other" packets...
  EXPECT_EQ(verify.ExpectNoOtherPackets().code(), absl::StatusCode::kFailedPrecondition);
  // ... and once they are claimed or declared background, there is nothing else.
  EXPECT_TRUE(verify.ExpectPackets(EchoRequestToB(), 3, absl::Seconds(1)).ok());
  EXPECT_TRUE(verify.ExpectPackets(EchoReplyFromB(), 2, absl::Seconds(1)).ok());
  verify.Ignore(PacketTemplate().Has("arp.opcode"));
  verify.Ignore(PacketTemplate().Has("icmpv6.type"));
  EXPECT_TRUE(verify.ExpectNoOtherPackets().ok());
}

TEST_F(PcapCaptureTest, FilterDecidesWhatIsCaptured) {
  auto capture = StartOnA("icmp[icmptype] == icmp-echoreply");
  ASSERT_TRUE(capture.ok()) << capture.status();
  PacketVerifier verify(capture->get());
  ASSERT_TRUE(PingB(2).ok());
  EXPECT_TRUE(verify.ExpectPackets(EchoReplyFromB(), 2, absl::Seconds(2)).ok());
  EXPECT_TRUE(verify.ExpectNoOtherPackets().ok());
}

TEST_F(PcapCaptureTest, AnyInterfaceGivesLinuxCookedFrames) {
  auto capture = Capture::Start(pair_.b->ref(), {.interface = "any", .filter = "icmp"});
  ASSERT_TRUE(capture.ok()) << capture.status();
  EXPECT_EQ((*capture)->link_type(), kLinkTypeLinuxSll);
  PacketVerifier verify(capture->get());
  ASSERT_TRUE(PingB(1).ok());
  EXPECT_TRUE(
      verify.ExpectPacket(EchoRequestToB().With("sll.etype", 0x0800), absl::Seconds(2)).ok());
}

TEST_F(PcapCaptureTest, NamespaceGivenAsAnOpenFd) {
  const int fd = open(("/run/netns/" + pair_.a->name()).c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto capture = Capture::Start(NetnsRef::Fd(fd), {.interface = "veth0", .filter = "icmp"});
  close(fd);  // only needed until Start returns
  ASSERT_TRUE(capture.ok()) << capture.status();
  PacketVerifier verify(capture->get());
  ASSERT_TRUE(PingB(1).ok());
  EXPECT_TRUE(verify.ExpectPacket(EchoReplyFromB(), absl::Seconds(2)).ok());
}

TEST_F(PcapCaptureTest, CallingThreadNeverLeavesItsNamespace) {
  const auto own = std::filesystem::read_symlink("/proc/thread-self/ns/net");
  auto capture = StartOnA("icmp");
  ASSERT_TRUE(capture.ok()) << capture.status();
  EXPECT_EQ(std::filesystem::read_symlink("/proc/thread-self/ns/net"), own);

  std::filesystem::path inside;
  ASSERT_TRUE(RunInNetns(pair_.a->ref(), [&] {
                inside = std::filesystem::read_symlink("/proc/thread-self/ns/net");
              }).ok());
  EXPECT_NE(inside, own);  // the work ran in A's namespace...
  EXPECT_EQ(std::filesystem::read_symlink("/proc/thread-self/ns/net"), own);  // ...not here
}

TEST_F(PcapCaptureTest, StartErrorsNameTheirCause) {
  auto no_namespace =
      Capture::Start(NetnsRef::Named("no-such-namespace-pcaptest"), {.interface = "veth0"});
  EXPECT_EQ(no_namespace.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_namespace.status().message(), HasSubstr("/run/netns/no-such-namespace-pcaptest"));

  auto no_interface = Capture::Start(pair_.a->ref(), {.interface = "nope0"});
  EXPECT_EQ(no_interface.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(no_interface.status().message(), HasSubstr("nope0"));

  auto bad_filter = StartOnA("udp port banana");
  EXPECT_EQ(bad_filter.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_filter.status().message(), HasSubstr("filter 'udp port banana'"));

  auto no_name = Capture::Start(pair_.a->ref(), {});
  EXPECT_EQ(no_name.status().code(), absl::StatusCode::kInvalidArgument);

  auto bad_file = StartOnA("", dir_.File("missing/dir/x.pcap"));
  EXPECT_FALSE(bad_file.ok());
  EXPECT_THAT(bad_file.status().message(), HasSubstr("missing/dir/x.pcap"));
}

TEST_F(PcapCaptureTest, InterfaceThatVanishesEndsTheCaptureWithAnError) {
  auto capture = StartOnA("");
  ASSERT_TRUE(capture.ok()) << capture.status();
  // Deleting one end of a veth pair deletes both.
  ASSERT_TRUE(pair_.b->Ip({"link", "del", "veth0"}).ok());
  const absl::Time start = absl::Now();
  // Drain what was captured before; the capture must then end on its own, long before 10 s.
  while ((*capture)->NextPacket(start + absl::Seconds(10)).has_value()) {
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE((*capture)->running());
  absl::Status stopped = (*capture)->Stop();
  EXPECT_EQ(stopped.code(), absl::StatusCode::kUnavailable) << stopped;
  EXPECT_THAT(stopped.message(), HasSubstr("capture on veth0"));
  EXPECT_EQ((*capture)->Stop(), stopped);  // idempotent
}

TEST_F(PcapCaptureTest, AfterStopNextPacketReturnsWithoutWaiting) {
  auto capture = StartOnA("icmp");
  ASSERT_TRUE(capture.ok()) << capture.status();
  ASSERT_TRUE(PingB(1).ok());
  ASSERT_TRUE((*capture)->Stop().ok());
  // What was captured before Stop is still handed out, then the stream ends at once.
  int remaining = 0;
  while ((*capture)->NextPacket(absl::InfiniteFuture()).has_value()) ++remaining;
  EXPECT_EQ(remaining, 2);
}

}  // namespace
}  // namespace nsmcert::pcap
