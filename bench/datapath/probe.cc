#include "bench/datapath/probe.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace nsmcert::bench {
namespace {

void PutBigEndian(std::uint64_t value, int bytes, std::uint8_t* out) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<std::uint8_t>(value & 0xff);
    value >>= 8;
  }
}

std::uint64_t GetBigEndian(const std::uint8_t* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) value = (value << 8) | in[i];
  return value;
}

constexpr size_t kMaxFrameSize = 1518;

}  // namespace

void WriteProbe(const ProbeHeader& header, std::uint8_t* out) {
  PutBigEndian(kProbeMagic, 2, out);
  PutBigEndian(header.trial, 2, out + 2);
  PutBigEndian(header.seq, 4, out + 4);
  PutBigEndian(header.send_ns, 8, out + 8);
}

std::optional<ProbeHeader> ReadProbe(const std::uint8_t* data, size_t size) {
  if (size < kProbeHeaderSize || GetBigEndian(data, 2) != kProbeMagic) return std::nullopt;
  ProbeHeader header;
  header.trial = static_cast<std::uint16_t>(GetBigEndian(data + 2, 2));
  header.seq = static_cast<std::uint32_t>(GetBigEndian(data + 4, 4));
  header.send_ns = GetBigEndian(data + 8, 8);
  return header;
}

absl::StatusOr<size_t> UdpPayloadForFrame(size_t frame_size, kernel::IpFamily family) {
  const size_t ip = family == kernel::IpFamily::kV4 ? kIpv4HeaderSize : kIpv6HeaderSize;
  const size_t overhead = kEthernetOverhead + ip + kUdpHeaderSize;
  if (frame_size > kMaxFrameSize) {
    return absl::InvalidArgumentError(absl::StrCat("frame size ", frame_size,
                                                   ": larger than a standard ", kMaxFrameSize,
                                                   "-byte Ethernet frame"));
  }
  if (frame_size < overhead + kProbeHeaderSize) {
    return absl::InvalidArgumentError(absl::StrCat("frame size ", frame_size,
                                                   ": too small for a probe (minimum ",
                                                   overhead + kProbeHeaderSize, " bytes)"));
  }
  return frame_size - overhead;
}

}  // namespace nsmcert::bench
