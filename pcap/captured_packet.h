// A frame as captured: its bytes, when it was seen, and its link type.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "pcap/link_type.h"

namespace nsmcert::pcap {

struct CapturedPacket {
  absl::Time timestamp;
  // Length on the wire; `data` is shorter when the capture's snapshot length cut the frame.
  uint32_t original_length = 0;
  int link_type = kLinkTypeEthernet;
  std::vector<uint8_t> data;
};

}  // namespace nsmcert::pcap
