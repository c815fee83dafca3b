// The traffic generator's probe: a fixed header at the start of every UDP payload, and the
// mapping from RFC 2544 frame sizes to UDP payload sizes.
//
// Header (16 bytes, network byte order): magic (2) | trial id (2) | sequence number (4) |
// send time in CLOCK_MONOTONIC nanoseconds (8). Sender and receiver run on one machine, so the
// send time can be subtracted from the receiver's clock for a one-way delay. The rest of the
// payload is filler. The header fits the smallest payload (a 64-byte IPv4 frame carries 18
// bytes of UDP payload).
#ifndef NSMCERT_BENCH_DATAPATH_PROBE_H_
#define NSMCERT_BENCH_DATAPATH_PROBE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "reference/kernel/ip.h"

namespace nsmcert::bench {

inline constexpr std::uint16_t kProbeMagic = 0x4e42;
inline constexpr size_t kProbeHeaderSize = 16;

struct ProbeHeader {
  std::uint16_t trial = 0;
  std::uint32_t seq = 0;
  std::uint64_t send_ns = 0;
  friend bool operator==(const ProbeHeader&, const ProbeHeader&) = default;
};

// Writes the header into the first kProbeHeaderSize bytes of `out`.
void WriteProbe(const ProbeHeader& header, std::uint8_t* out);
// Reads a header; nullopt when `size` is too small or the magic does not match (not a probe).
std::optional<ProbeHeader> ReadProbe(const std::uint8_t* data, size_t size);

// Frame sizes of RFC 2544 §9.1 for Ethernet, in bytes including the 4-byte FCS.
inline constexpr std::array<size_t, 7> kRfc2544FrameSizes = {64, 128, 256, 512, 1024, 1280, 1518};

// Ethernet II header (14) + FCS (4); IPv4 header without options; IPv6 header; UDP header.
inline constexpr size_t kEthernetOverhead = 18;
inline constexpr size_t kIpv4HeaderSize = 20;
inline constexpr size_t kIpv6HeaderSize = 40;
inline constexpr size_t kUdpHeaderSize = 8;

// The UDP payload that makes an Ethernet frame of `frame_size` bytes (FCS included).
// INVALID_ARGUMENT (naming the frame size) when the payload would not hold a probe header or the
// frame exceeds a standard 1518-byte frame.
absl::StatusOr<size_t> UdpPayloadForFrame(size_t frame_size,
                                          kernel::IpFamily family = kernel::IpFamily::kV4);

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_PROBE_H_
