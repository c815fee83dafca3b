#include "pcap/checksum.h"

namespace nsmcert::pcap {

void ChecksumAccumulator::Add(std::span<const uint8_t> data) {
  for (uint8_t byte : data) {
    sum_ += odd_ ? byte : static_cast<uint64_t>(byte) << 8;
    odd_ = !odd_;
  }
}

void ChecksumAccumulator::AddU16(uint16_t value) {
  const uint8_t bytes[2] = {static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value)};
  Add(bytes);
}

void ChecksumAccumulator::AddU32(uint32_t value) {
  AddU16(static_cast<uint16_t>(value >> 16));
  AddU16(static_cast<uint16_t>(value));
}

uint16_t ChecksumAccumulator::Finish() const {
  uint64_t sum = sum_;
  while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

uint16_t InternetChecksum(std::span<const uint8_t> data) {
  ChecksumAccumulator accumulator;
  accumulator.Add(data);
  return accumulator.Finish();
}

}  // namespace nsmcert::pcap
