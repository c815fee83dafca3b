#include "pcap/packet_source.h"

#include <algorithm>
#include <utility>

namespace nsmcert::pcap {

ReplayPacketSource::ReplayPacketSource(std::vector<CapturedPacket> packets,
                                       std::optional<absl::Time> start)
    : packets_(std::move(packets)) {
  std::stable_sort(
      packets_.begin(), packets_.end(),
      [](const CapturedPacket& a, const CapturedPacket& b) { return a.timestamp < b.timestamp; });
  if (start.has_value()) {
    now_ = *start;
  } else {
    now_ = packets_.empty() ? absl::UnixEpoch() : packets_.front().timestamp;
  }
}

std::optional<CapturedPacket> ReplayPacketSource::NextPacket(absl::Time deadline) {
  if (next_ < packets_.size() && packets_[next_].timestamp <= std::max(deadline, now_)) {
    now_ = std::max(now_, packets_[next_].timestamp);
    return packets_[next_++];
  }
  now_ = std::max(now_, deadline);
  return std::nullopt;
}

void ReplayPacketSource::AdvanceTo(absl::Time time) { now_ = std::max(now_, time); }

}  // namespace nsmcert::pcap
