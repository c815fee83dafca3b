#include "pcap/testing/frames.h"

#include <cstdlib>
#include <iostream>

#include "pcap/link_type.h"
#include "pcap/packet_builder.h"

namespace nsmcert::pcap::testing {
namespace {

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::vector<uint8_t> MustBuild(const PacketBuilder& builder, std::string_view name) {
  auto frame = builder.Build();
  if (!frame.ok()) {
    std::cerr << "sample frame " << name << ": " << frame.status() << "\n";
    std::abort();
  }
  return *std::move(frame);
}

}  // namespace

std::vector<uint8_t> HexBytes(std::string_view hex) {
  std::vector<uint8_t> out;
  int high = -1;
  for (char c : hex) {
    if (c == ' ' || c == '\n' || c == ':') continue;
    const int digit = HexDigit(c);
    if (digit < 0) {
      std::cerr << "HexBytes: bad character '" << c << "'\n";
      std::abort();
    }
    if (high < 0) {
      high = digit;
    } else {
      out.push_back(static_cast<uint8_t>(high << 4 | digit));
      high = -1;
    }
  }
  if (high >= 0) {
    std::cerr << "HexBytes: odd number of digits\n";
    std::abort();
  }
  return out;
}

std::vector<SampleFrame> SampleFrames() {
  const EthernetSpec eth{.dst = "02:00:00:00:00:02", .src = "02:00:00:00:00:01"};
  const Ipv4Spec ip{.src = "10.0.0.1", .dst = "10.0.0.2", .id = 0x1234, .dont_fragment = true};
  const Ipv6Spec ip6{.src = "fd00::1", .dst = "fd00::2"};
  std::vector<SampleFrame> frames;
  auto add = [&](std::string name, const PacketBuilder& builder) {
    frames.push_back({name, kLinkTypeEthernet, MustBuild(builder, name)});
  };
  add("icmp-echo", PacketBuilder()
                       .Ethernet(eth)
                       .Ipv4(ip)
                       .Icmp({.type = 8, .ident = 7, .seq = 1})
                       .Payload("0123456789abcdef"));
  add("arp-request", PacketBuilder()
                         .Ethernet({.src = "02:00:00:00:00:01"})
                         .Arp({.sender_ip = "10.0.0.1", .target_ip = "10.0.0.2"}));
  add("vlan-udp", PacketBuilder()
                      .Ethernet(eth)
                      .Vlan({.id = 100, .priority = 5})
                      .Ipv4(ip)
                      .Udp({.src_port = 5000, .dst_port = 53})
                      .Payload("query"));
  add("qinq-icmpv6", PacketBuilder()
                         .Ethernet(eth)
                         .Vlan({.id = 10, .type = 0x8100})
                         .Vlan({.id = 20})
                         .Ipv6(ip6)
                         .Icmpv6({.type = 128, .ident = 3, .seq = 4})
                         .Payload("ping6"));
  add("tcp-syn", PacketBuilder()
                     .Ethernet(eth)
                     .Ipv4(ip)
                     .Tcp({.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = kTcpSyn})
                     .Payload("data"));
  add("vxlan-icmp", PacketBuilder()
                        .Ethernet(eth)
                        .Ipv4(ip)
                        .Udp({.src_port = 33333})
                        .Vxlan({.vni = 4242})
                        .Ethernet({.dst = "02:00:00:00:01:02", .src = "02:00:00:00:01:01"})
                        .Ipv4({.src = "10.1.0.1", .dst = "10.1.0.2"})
                        .Icmp({.type = 0, .ident = 9, .seq = 2})
                        .Payload("inner"));
  add("vxlan-vlan-tcp6", PacketBuilder()
                             .Ethernet(eth)
                             .Ipv6(ip6)
                             .Udp({.src_port = 33333})
                             .Vxlan({.vni = 7})
                             .Ethernet(eth)
                             .Vlan({.id = 5})
                             .Ipv6(ip6)
                             .Tcp({.src_port = 1, .dst_port = 2, .flags = kTcpAck}));
  // An ICMP "port unreachable" quoting the IPv4/UDP datagram it answers.
  const std::vector<uint8_t> quoted_udp = MustBuild(
      PacketBuilder().Ipv4(ip).Udp({.src_port = 5000, .dst_port = 9}).Payload("lost"), "quoted");
  add("icmp-unreachable",
      PacketBuilder().Ethernet(eth).Ipv4(ip).Icmp({.type = 3, .code = 3}).Payload(quoted_udp));
  const std::vector<uint8_t> quoted_tcp6 =
      MustBuild(PacketBuilder().Ipv6(ip6).Tcp({.src_port = 1, .dst_port = 2}), "quoted6");
  add("icmpv6-too-big", PacketBuilder()
                            .Ethernet(eth)
                            .Ipv6(ip6)
                            .Icmpv6({.type = 2, .seq = 1280})
                            .Payload(std::span(quoted_tcp6).first(48)));
  add("ipv4-fragment",
      PacketBuilder()
          .Ethernet(eth)
          .Ipv4({.src = "10.0.0.1", .dst = "10.0.0.2", .fragment_offset = 1480, .protocol = 17})
          .Payload("tail of a datagram"));
  // IPv6 with a hop-by-hop header (8 bytes, a PadN option) and an atomic fragment header (offset
  // 0, no more fragments) before UDP.
  const std::vector<uint8_t> extension_headers =
      HexBytes("2c00 0104 0000 0000  1100 0000 0000 002a");
  const std::vector<uint8_t> udp6 =
      MustBuild(PacketBuilder().Ipv6(ip6).Udp({.src_port = 7, .dst_port = 7}).Payload("x"), "udp6");
  std::vector<uint8_t> ext_payload = extension_headers;
  ext_payload.insert(ext_payload.end(), udp6.begin() + 40, udp6.end());
  add("ipv6-ext-udp", PacketBuilder()
                          .Ethernet(eth)
                          .Ipv6({.src = "fd00::1", .dst = "fd00::2", .next_header = 0})
                          .Payload(ext_payload));
  // Neighbor solicitation for fe80::1 with a source link-layer address option.
  add("icmpv6-ns", PacketBuilder()
                       .Ethernet({.dst = "33:33:ff:00:00:01", .src = "02:00:00:00:00:01"})
                       .Ipv6({.src = "fe80::2", .dst = "ff02::1:ff00:1", .hop_limit = 255})
                       .Icmpv6({.type = 135})
                       .Payload(HexBytes("fe80 0000 0000 0000 0000 0000 0000 0001 "
                                         "0101 0200 0000 0001")));
  // Linux cooked capture: packet type 0 (to us), ARPHRD_ETHER, 6-byte address, then IPv4/ICMP.
  std::vector<uint8_t> sll = HexBytes("0000 0001 0006 0200 0000 0001 0000 0800");
  const std::vector<uint8_t> ip_icmp =
      MustBuild(PacketBuilder().Ipv4(ip).Icmp({.type = 8, .ident = 1, .seq = 1}), "sll");
  sll.insert(sll.end(), ip_icmp.begin(), ip_icmp.end());
  frames.push_back({"sll-icmp", kLinkTypeLinuxSll, std::move(sll)});
  return frames;
}

}  // namespace nsmcert::pcap::testing
