// Test-only: frames as data, for decoder, template and fuzz tests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace nsmcert::pcap::testing {

// Bytes from hex text; spaces, newlines and colons are ignored ("0200 0000 0001"). Aborts the test
// binary on a malformed literal, which is a bug in the test itself.
std::vector<uint8_t> HexBytes(std::string_view hex);

struct SampleFrame {
  std::string name;
  int link_type;
  std::vector<uint8_t> bytes;
};

// Well-formed frames that together reach every decoder: Ethernet, Linux cooked, one and two
// 802.1Q tags, ARP, IPv4 (with options, a fragment), IPv6 (with extension headers), ICMP echo and
// errors, ICMPv6 echo, errors and neighbor discovery, UDP, TCP with options, VXLAN with inner
// frames. Seeds for the mutation tests.
std::vector<SampleFrame> SampleFrames();

}  // namespace nsmcert::pcap::testing
