// The Internet checksum (RFC 1071) used by IPv4, ICMP, ICMPv6, UDP and TCP.
#pragma once

#include <cstdint>
#include <span>

namespace nsmcert::pcap {

// Sums data in 16-bit big-endian words, across several pieces (pseudo-header, header, payload).
// A piece of odd length is continued by the next piece, as if they were contiguous.
class ChecksumAccumulator {
 public:
  void Add(std::span<const uint8_t> data);
  void AddU16(uint16_t value);
  void AddU32(uint32_t value);
  // The one's complement of the folded sum: the value to put in the checksum field. Summing data
  // that already holds a correct checksum gives 0.
  uint16_t Finish() const;

 private:
  uint64_t sum_ = 0;
  bool odd_ = false;  // the last byte added was a high byte still waiting for its low byte
};

uint16_t InternetChecksum(std::span<const uint8_t> data);

}  // namespace nsmcert::pcap
