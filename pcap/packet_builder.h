// Crafting frames layer by layer, outermost first, scapy-style:
//
//   absl::StatusOr<std::vector<uint8_t>> frame = PacketBuilder()
//       .Ethernet({.dst = "02:00:00:00:00:02", .src = "02:00:00:00:00:01"})
//       .Ipv4({.src = "10.0.0.1", .dst = "10.0.0.2"})
//       .Icmp({.type = 8, .ident = 7, .seq = 1})
//       .Payload("hello")
//       .Build();
//
// Build() fills in what follows from the layers: EtherTypes, IP protocol / next header, lengths,
// the UDP destination port before VXLAN (4789), and every checksum (IPv4 header, ICMP, and the
// pseudo-header checksums of UDP, TCP and ICMPv6). Set an optional field to override it, e.g. to
// craft a bad checksum or a lying length. Layers after a Vxlan() form the inner frame.
//
// Addresses are text and are checked by Build(); errors name the layer and the field.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::pcap {

struct EthernetSpec {
  std::string dst = "ff:ff:ff:ff:ff:ff";
  std::string src = "02:00:00:00:00:01";
  std::optional<uint16_t> type = {};  // default: from the next layer
};

struct VlanSpec {
  uint16_t id = 1;  // 12 bits
  uint8_t priority = 0;
  bool dei = false;
  std::optional<uint16_t> type = {};  // default: from the next layer
};

struct ArpSpec {
  uint16_t opcode = 1;  // 1 request, 2 reply
  std::string sender_mac = "02:00:00:00:00:01";
  std::string sender_ip = {};
  std::string target_mac = "00:00:00:00:00:00";
  std::string target_ip = {};
};

struct Ipv4Spec {
  std::string src = {};
  std::string dst = {};
  uint8_t ttl = 64;
  uint8_t dsfield = 0;
  uint16_t id = 0;
  bool dont_fragment = false;
  bool more_fragments = false;
  uint16_t fragment_offset = 0;               // in bytes; a multiple of 8
  std::optional<uint8_t> protocol = {};       // default: from the next layer
  std::optional<uint16_t> total_length = {};  // default: header + payload
  std::optional<uint16_t> checksum = {};      // default: computed
};

struct Ipv6Spec {
  std::string src = {};
  std::string dst = {};
  uint8_t hop_limit = 64;
  uint8_t traffic_class = 0;
  uint32_t flow_label = 0;                      // 20 bits
  std::optional<uint8_t> next_header = {};      // default: from the next layer
  std::optional<uint16_t> payload_length = {};  // default: the payload's size
};

// ICMP header: type, code, checksum, then two 16-bit words: identifier and sequence for echo; for
// "fragmentation needed" put the next-hop MTU in `seq`.
struct IcmpSpec {
  uint8_t type = 8;  // 8 echo request, 0 echo reply
  uint8_t code = 0;
  uint16_t ident = 0;
  uint16_t seq = 0;
  std::optional<uint16_t> checksum = {};
};

struct Icmpv6Spec {
  uint8_t type = 128;  // 128 echo request, 129 echo reply
  uint8_t code = 0;
  uint16_t ident = 0;
  uint16_t seq = 0;
  std::optional<uint16_t> checksum = {};  // default: computed over the IPv6 pseudo-header
};

struct UdpSpec {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;  // 0 before a VXLAN layer means 4789
  std::optional<uint16_t> length = {};
  std::optional<uint16_t> checksum = {};  // default: computed (0 is sent as 0xffff)
};

inline constexpr uint16_t kTcpFin = 0x001;
inline constexpr uint16_t kTcpSyn = 0x002;
inline constexpr uint16_t kTcpRst = 0x004;
inline constexpr uint16_t kTcpPsh = 0x008;
inline constexpr uint16_t kTcpAck = 0x010;

struct TcpSpec {
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint32_t seq = 0;
  uint32_t ack = 0;
  uint16_t flags = kTcpSyn;  // 12 bits
  uint16_t window = 65535;
  uint16_t urgent_pointer = 0;
  std::optional<uint16_t> checksum = {};
};

struct VxlanSpec {
  uint32_t vni = 0;         // 24 bits
  uint16_t flags = 0x0800;  // "VNI present"
};

class PacketBuilder {
 public:
  PacketBuilder& Ethernet(EthernetSpec spec);
  PacketBuilder& Vlan(VlanSpec spec);
  PacketBuilder& Arp(ArpSpec spec);
  PacketBuilder& Ipv4(Ipv4Spec spec);
  PacketBuilder& Ipv6(Ipv6Spec spec);
  PacketBuilder& Icmp(IcmpSpec spec);
  PacketBuilder& Icmpv6(Icmpv6Spec spec);
  PacketBuilder& Udp(UdpSpec spec);
  PacketBuilder& Tcp(TcpSpec spec);
  PacketBuilder& Vxlan(VxlanSpec spec);
  PacketBuilder& Payload(std::span<const uint8_t> bytes);
  PacketBuilder& Payload(std::string_view text);

  // The frame's bytes. Errors (InvalidArgument) name the layer ("layer 2 (ipv4)") and field: bad
  // addresses, values out of range, a UDP/TCP/ICMPv6 layer not right after an IP layer of the
  // right family, a type or protocol that cannot be inferred, lengths over 65535.
  absl::StatusOr<std::vector<uint8_t>> Build() const;

 private:
  struct PayloadSpec {
    std::vector<uint8_t> bytes;
  };
  using Layer = std::variant<EthernetSpec, VlanSpec, ArpSpec, Ipv4Spec, Ipv6Spec, IcmpSpec,
                             Icmpv6Spec, UdpSpec, TcpSpec, VxlanSpec, PayloadSpec>;
  friend class FrameSerializer;

  std::vector<Layer> layers_;
};

}  // namespace nsmcert::pcap
