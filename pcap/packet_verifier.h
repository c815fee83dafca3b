// Packet expectations that read like a sentence (after PTF's verify_packet / verify_no_packet /
// verify_no_other_packets):
//
//   PacketVerifier verify(capture.get());
//   verify.Flush();                                   // forget what came before the stimulus
//   SendPing();
//   EXPECT_OK(verify.ExpectPacket(echo_request, absl::Seconds(2)));
//   EXPECT_OK(verify.ExpectPacket(echo_reply, absl::Seconds(2)));
//   EXPECT_OK(verify.ExpectNoPacket(leak_to_other_service));  // its own short timeout
//   EXPECT_OK(verify.ExpectNoOtherPackets());
//
// Every packet taken from the source is decoded and, until an expectation claims it, kept as
// "unclaimed". ExpectPacket claims the first unclaimed packet that matches (whether it arrived
// before or during the call), so expected packets may arrive in any order. ExpectNoOtherPackets
// fails on any unclaimed packet not covered by Ignore().
//
// Failures are statuses whose message shows the template and the packets that came closest, with
// the fields that differ: DeadlineExceeded when an expected packet did not come, FailedPrecondition
// when an unwanted one did, InvalidArgument for a malformed template.
//
// Not thread-safe; the source must outlive the verifier.
#pragma once

#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "pcap/captured_packet.h"
#include "pcap/decoded_packet.h"
#include "pcap/decoder.h"
#include "pcap/packet_source.h"
#include "pcap/packet_template.h"

namespace nsmcert::pcap {

struct VerifierOptions {
  // How long the negative checks (ExpectNoPacket, ExpectNoOtherPackets) watch by default.
  absl::Duration negative_timeout = absl::Milliseconds(300);
  DecodeOptions decode = {};
  // How many near misses a failed ExpectPacket shows, and how many packets other failures list.
  int closest_shown = 3;
  int packets_listed = 8;
};

// A packet the verifier took from its source.
struct SeenPacket {
  size_t index = 0;  // 1-based arrival number, as shown in messages ("#3")
  CapturedPacket packet;
  DecodedPacket decoded;
};

class PacketVerifier {
 public:
  explicit PacketVerifier(PacketSource* source, VerifierOptions options = {});

  // Takes every packet the source already has, without waiting, and forgets it together with all
  // unclaimed packets. Call it right before the stimulus. (A packet still on its way from the
  // kernel to a live capture can arrive after Flush; captures run in immediate mode to keep that
  // window to microseconds.)
  void Flush();

  // A packet matching `expected` arrives (or has arrived unclaimed) within `timeout`.
  absl::Status ExpectPacket(const PacketTemplate& expected, absl::Duration timeout);
  // `count` packets matching `expected` within `timeout` in total.
  absl::Status ExpectPackets(const PacketTemplate& expected, int count, absl::Duration timeout);

  // No packet matching `unwanted`, neither unclaimed nor arriving within the timeout (the
  // negative timeout by default). Returns at the first offender.
  absl::Status ExpectNoPacket(const PacketTemplate& unwanted);
  absl::Status ExpectNoPacket(const PacketTemplate& unwanted, absl::Duration timeout);

  // No unclaimed packet other than those matching an Ignore() template, including packets that
  // arrive within the timeout (the negative timeout by default). Returns at the first offender.
  absl::Status ExpectNoOtherPackets();
  absl::Status ExpectNoOtherPackets(absl::Duration timeout);

  // Background traffic (neighbour discovery, ARP, ...) that ExpectNoOtherPackets overlooks.
  // ExpectPacket and ExpectNoPacket still see such packets.
  void Ignore(PacketTemplate background);

  const std::vector<SeenPacket>& unclaimed() const { return unclaimed_; }
  // How many packets the verifier took from the source, claimed or not.
  size_t packets_seen() const { return seen_; }

 private:
  // Takes one packet from the source into unclaimed_.back(), waiting until `deadline` at most;
  // false when none came.
  bool Pull(absl::Time deadline);
  bool Ignored(const DecodedPacket& packet) const;
  std::string Describe(const SeenPacket& packet) const;
  std::string ClosestReport(const PacketTemplate& expected) const;

  PacketSource* source_;
  VerifierOptions options_;
  std::vector<SeenPacket> unclaimed_;
  std::vector<PacketTemplate> ignored_;
  size_t seen_ = 0;
  absl::Time first_timestamp_ = absl::InfinitePast();
};

}  // namespace nsmcert::pcap
