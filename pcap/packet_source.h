// Where expectations get packets from: a live capture, or a recorded list replayed on a virtual
// clock (tests, pcap files).
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "absl/time/time.h"
#include "pcap/captured_packet.h"

namespace nsmcert::pcap {

// A stream of packets in arrival order, with the clock its deadlines are measured on.
class PacketSource {
 public:
  virtual ~PacketSource() = default;

  // The next packet not returned before, waiting until `deadline` at most. Returns nullopt when
  // no packet came by the deadline, or when the source has ended and every packet was returned.
  // A deadline at or before Now() returns only a packet that is already there.
  virtual std::optional<CapturedPacket> NextPacket(absl::Time deadline) = 0;

  // The source's clock.
  virtual absl::Time Now() const = 0;
};

// Replays recorded packets on a virtual clock, so that timeouts are exact and nothing sleeps:
// a packet becomes available at its timestamp, and waiting for a deadline with nothing available
// moves the clock straight to the deadline. Not thread-safe.
class ReplayPacketSource final : public PacketSource {
 public:
  // `packets` are put in timestamp order (stable). The clock starts at `start`, or at the first
  // packet's timestamp (the Unix epoch when there are none).
  explicit ReplayPacketSource(std::vector<CapturedPacket> packets,
                              std::optional<absl::Time> start = std::nullopt);

  std::optional<CapturedPacket> NextPacket(absl::Time deadline) override;
  absl::Time Now() const override { return now_; }

  // Moves the clock forward (never back), as if time passed without anyone reading packets.
  void AdvanceTo(absl::Time time);
  size_t remaining() const { return packets_.size() - next_; }

 private:
  std::vector<CapturedPacket> packets_;
  size_t next_ = 0;
  absl::Time now_;
};

}  // namespace nsmcert::pcap
