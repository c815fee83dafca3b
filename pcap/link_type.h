// Link-layer types of captured frames, with libpcap's DLT_/LINKTYPE_ numbers.
#pragma once

namespace nsmcert::pcap {

inline constexpr int kLinkTypeEthernet = 1;    // DLT_EN10MB
inline constexpr int kLinkTypeLinuxSll = 113;  // DLT_LINUX_SLL, what the "any" device gives

}  // namespace nsmcert::pcap
