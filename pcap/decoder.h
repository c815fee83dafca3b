// Decoders for the protocols a data-path check needs: Ethernet (and Linux cooked capture), 802.1Q
// (up to two tags), ARP, IPv4, IPv6 (extension headers skipped), ICMP, ICMPv6, UDP, TCP and VXLAN
// with its inner frame, plus the datagram quoted inside ICMP/ICMPv6 errors.
//
// Field names and prefixes are described in pcap/field.h. Decoding reads only inside the given
// buffer: truncated or malformed input yields a partial decode with a note in
// DecodedPacket::errors(), never a crash. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "pcap/decoded_packet.h"
#include "pcap/link_type.h"

namespace nsmcert::pcap {

inline constexpr uint16_t kVxlanPort = 4789;  // IANA; what tshark decodes as VXLAN by default

struct DecodeOptions {
  // UDP destination ports whose payload is decoded as VXLAN. (Linux's own default, when a vxlan
  // device is made without `dstport`, is 8472.)
  std::vector<uint16_t> vxlan_ports = {kVxlanPort};
  // How deep VXLAN-in-VXLAN nesting is decoded before the rest is left as data.
  int max_nesting = 4;
};

// Decodes one frame captured on a link of type `link_type`. An unknown link type gives a packet
// with only a data layer and an error note.
DecodedPacket Decode(std::span<const uint8_t> frame, int link_type = kLinkTypeEthernet,
                     const DecodeOptions& options = {});

}  // namespace nsmcert::pcap
