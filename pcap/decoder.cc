#include "pcap/decoder.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

constexpr uint16_t kEtherTypeIpv4 = 0x0800;
constexpr uint16_t kEtherTypeArp = 0x0806;
constexpr uint16_t kEtherTypeVlan = 0x8100;
constexpr uint16_t kEtherTypeQinQ = 0x88a8;
constexpr uint16_t kEtherTypeIpv6 = 0x86dd;

constexpr uint8_t kProtoIcmp = 1;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpv6 = 58;

// A window on the frame. Every accessor clamps to the window, so a length mistake in a decoder
// reads zeros instead of memory outside the buffer; the decoders still check sizes first so that
// they can report truncation.
class View {
 public:
  View(std::span<const uint8_t> data, size_t offset) : data_(data), offset_(offset) {}

  size_t size() const { return data_.size(); }
  bool empty() const { return data_.empty(); }
  size_t offset() const { return offset_; }  // of byte 0, from the start of the frame
  std::span<const uint8_t> bytes() const { return data_; }

  uint8_t U8(size_t i) const { return i < data_.size() ? data_[i] : 0; }
  uint16_t U16(size_t i) const { return static_cast<uint16_t>(U8(i) << 8 | U8(i + 1)); }
  uint32_t U32(size_t i) const {
    return static_cast<uint32_t>(U16(i)) << 16 | static_cast<uint32_t>(U16(i + 2));
  }
  template <size_t N>
  std::span<const uint8_t, N> Fixed(size_t i) const {
    // Callers check size() first; an out-of-range request yields the zero buffer.
    static constexpr uint8_t kZeros[N] = {};
    if (i > data_.size() || data_.size() - i < N) return std::span<const uint8_t, N>(kZeros, N);
    return data_.subspan(i).template first<N>();
  }
  // The bytes from `from`, at most `length` of them; empty when `from` is past the end.
  View Sub(size_t from, size_t length = SIZE_MAX) const {
    if (from >= data_.size()) return View({}, offset_ + data_.size());
    return View(data_.subspan(from, std::min(length, data_.size() - from)), offset_ + from);
  }

 private:
  std::span<const uint8_t> data_;
  size_t offset_;
};

// Where we are in a nested decode: the field-name prefix, the VXLAN nesting depth, and whether
// we are inside an ICMP error's quoted datagram (which is legitimately cut short).
struct Context {
  std::string prefix;
  int depth = 0;
  bool quoted = false;
};

class Decoder {
 public:
  Decoder(DecodedPacket& out, const DecodeOptions& options) : out_(out), options_(options) {}

  void Ethernet(View v, const Context& c) {
    if (!Require(v, 14, "eth", c)) return Data(v, c);
    Layer("eth", v.offset(), 14, c);
    Mac("eth.dst", v.Fixed<6>(0), c);
    Mac("eth.src", v.Fixed<6>(6), c);
    Uint("eth.type", v.U16(12), c);
    EtherPayload(v.U16(12), v.Sub(14), c, 0);
  }

  // Linux cooked capture v1 (the "any" device): a 16-byte pseudo header instead of Ethernet.
  void LinuxSll(View v, const Context& c) {
    if (!Require(v, 16, "sll", c)) return Data(v, c);
    Layer("sll", v.offset(), 16, c);
    Uint("sll.pkttype", v.U16(0), c);
    Uint("sll.hatype", v.U16(2), c);
    Uint("sll.halen", v.U16(4), c);
    if (v.U16(4) == 6) Mac("sll.src.eth", v.Fixed<6>(6), c);
    Uint("sll.etype", v.U16(14), c);
    EtherPayload(v.U16(14), v.Sub(16), c, 0);
  }

  void Data(View v, const Context& c) {
    if (v.empty()) return;
    Layer("data", v.offset(), v.size(), c);
    Uint("data.len", v.size(), c);
    out_.AddField(c.prefix + "data.data", FieldValue::Bytes(v.bytes()));
  }

 private:
  void EtherPayload(uint16_t ether_type, View v, const Context& c, int vlan_tags) {
    switch (ether_type) {
      case kEtherTypeVlan:
      case kEtherTypeQinQ:
        return Vlan(v, c, vlan_tags);
      case kEtherTypeArp:
        return Arp(v, c);
      case kEtherTypeIpv4:
        return Ipv4(v, c);
      case kEtherTypeIpv6:
        return Ipv6(v, c);
      default:
        return Data(v, c);
    }
  }

  void Vlan(View v, const Context& c, int vlan_tags) {
    if (vlan_tags >= 2) {
      Error(internal::Cat(c.prefix, "vlan: more than two 802.1Q tags; the rest is not decoded"));
      return Data(v, c);
    }
    const std::string name = vlan_tags == 0 ? "vlan" : "vlan2";
    if (!Require(v, 4, name, c)) return Data(v, c);
    Layer(name, v.offset(), 4, c);
    const uint16_t tci = v.U16(0);
    Uint(name + ".priority", tci >> 13, c);
    Uint(name + ".dei", (tci >> 12) & 1, c);
    Uint(name + ".id", tci & 0x0fff, c);
    Uint(name + ".etype", v.U16(2), c);
    EtherPayload(v.U16(2), v.Sub(4), c, vlan_tags + 1);
  }

  void Arp(View v, const Context& c) {
    if (!Require(v, 8, "arp", c)) return Data(v, c);
    const uint16_t hw_type = v.U16(0);
    const uint16_t proto_type = v.U16(2);
    const uint8_t hw_size = v.U8(4);
    const uint8_t proto_size = v.U8(5);
    // Only Ethernet/IPv4 ARP has addresses we decode; other kinds keep their fixed fields.
    const bool ethernet_ipv4 =
        hw_type == 1 && proto_type == kEtherTypeIpv4 && hw_size == 6 && proto_size == 4;
    const size_t length = ethernet_ipv4 ? 28 : 8;
    if (ethernet_ipv4 && !Require(v, length, "arp", c)) return Data(v, c);
    Layer("arp", v.offset(), length, c);
    Uint("arp.hw.type", hw_type, c);
    Uint("arp.proto.type", proto_type, c);
    Uint("arp.hw.size", hw_size, c);
    Uint("arp.proto.size", proto_size, c);
    Uint("arp.opcode", v.U16(6), c);
    if (!ethernet_ipv4) return;
    Mac("arp.src.hw_mac", v.Fixed<6>(8), c);
    Ipv4Addr("arp.src.proto_ipv4", v.Fixed<4>(14), c);
    Mac("arp.dst.hw_mac", v.Fixed<6>(18), c);
    Ipv4Addr("arp.dst.proto_ipv4", v.Fixed<4>(24), c);
    // Bytes after the ARP body are Ethernet padding, not payload.
  }

  void Ipv4(View v, const Context& c) {
    if (!Require(v, 20, "ip", c)) return Data(v, c);
    const uint8_t version = v.U8(0) >> 4;
    if (version != 4) {
      Error(At(v, c, "ip", internal::Cat("version ", version, " in an IPv4 packet")));
      return Data(v, c);
    }
    const size_t header_length = static_cast<size_t>(v.U8(0) & 0x0f) * 4;
    const uint16_t total_length = v.U16(2);
    const uint16_t flags_fragment = v.U16(6);
    const uint8_t protocol = v.U8(9);
    Layer("ip", v.offset(), std::min(std::max<size_t>(header_length, 20), v.size()), c);
    Uint("ip.version", version, c);
    Uint("ip.hdr_len", header_length, c);
    Uint("ip.dsfield", v.U8(1), c);
    Uint("ip.len", total_length, c);
    Uint("ip.id", v.U16(4), c);
    Uint("ip.flags", flags_fragment >> 13, c);
    Uint("ip.flags.df", (flags_fragment >> 14) & 1, c);
    Uint("ip.flags.mf", (flags_fragment >> 13) & 1, c);
    Uint("ip.frag_offset", flags_fragment & 0x1fff, c);
    Uint("ip.ttl", v.U8(8), c);
    Uint("ip.proto", protocol, c);
    Uint("ip.checksum", v.U16(10), c);
    Ipv4Addr("ip.src", v.Fixed<4>(12), c);
    Ipv4Addr("ip.dst", v.Fixed<4>(16), c);
    if (header_length < 20) {
      Error(At(v, c, "ip", internal::Cat("header length ", header_length, " is below 20")));
      return;
    }
    if (!Require(v, header_length, "ip", c)) return;  // options cut short
    if (total_length < header_length) {
      Error(At(v, c, "ip",
               internal::Cat("total length ", total_length, " is below the header length ",
                             header_length)));
      return;
    }
    View payload = Payload(v, header_length, total_length, "ip", c);
    if ((flags_fragment & 0x1fff) != 0) return Data(payload, c);  // a non-first fragment
    IpPayload(protocol, payload, c);
  }

  void Ipv6(View v, const Context& c) {
    if (!Require(v, 40, "ipv6", c)) return Data(v, c);
    const uint8_t version = v.U8(0) >> 4;
    if (version != 6) {
      Error(At(v, c, "ipv6", internal::Cat("version ", version, " in an IPv6 packet")));
      return Data(v, c);
    }
    const uint32_t first_word = v.U32(0);
    const uint16_t payload_length = v.U16(4);
    Layer("ipv6", v.offset(), 40, c);
    Uint("ipv6.version", version, c);
    Uint("ipv6.tclass", (first_word >> 20) & 0xff, c);
    Uint("ipv6.flow", first_word & 0xfffff, c);
    Uint("ipv6.plen", payload_length, c);
    Uint("ipv6.nxt", v.U8(6), c);
    Uint("ipv6.hlim", v.U8(7), c);
    Ipv6Addr("ipv6.src", v.Fixed<16>(8), c);
    Ipv6Addr("ipv6.dst", v.Fixed<16>(24), c);
    View rest = Payload(v, 40, 40 + static_cast<size_t>(payload_length), "ipv6", c);

    // Walk the extension headers to the upper-layer protocol. Each step consumes at least 8
    // bytes, so the loop ends; the bound only caps work on hostile input.
    uint8_t next = v.U8(6);
    bool fragment_seen = false;
    for (int hops = 0; hops < 32; ++hops) {
      size_t length = 0;
      switch (next) {
        case 0:   // hop-by-hop options
        case 43:  // routing
        case 60:  // destination options
          if (!Require(rest, 2, "ipv6.ext", c)) return;
          length = (static_cast<size_t>(rest.U8(1)) + 1) * 8;
          break;
        case 51:  // authentication header
          if (!Require(rest, 2, "ipv6.ext", c)) return;
          length = (static_cast<size_t>(rest.U8(1)) + 2) * 4;
          break;
        case 44: {  // fragment
          if (!Require(rest, 8, "ipv6.fraghdr", c)) return;
          if (fragment_seen) {
            // RFC 8200 allows one fragment header; what follows a second is not decoded.
            Error(At(rest, c, "ipv6.fraghdr", "a second fragment header"));
            return Data(rest, c);
          }
          fragment_seen = true;
          const uint16_t offset_flags = rest.U16(2);
          Uint("ipv6.fraghdr.offset", offset_flags >> 3, c);
          Uint("ipv6.fraghdr.more", offset_flags & 1, c);
          if ((offset_flags >> 3) != 0) return Data(rest.Sub(8), c);  // a non-first fragment
          length = 8;
          break;
        }
        case 59:  // no next header
          return;
        default:
          return IpPayload(next, rest, c);
      }
      if (!Require(rest, length, "ipv6.ext", c)) return;
      next = rest.U8(0);
      rest = rest.Sub(length);
    }
    Error(At(rest, c, "ipv6", "too many extension headers"));
  }

  void IpPayload(uint8_t protocol, View v, const Context& c) {
    switch (protocol) {
      case kProtoIcmp:
        return Icmp(v, c);
      case kProtoIcmpv6:
        return Icmpv6(v, c);
      case kProtoUdp:
        return Udp(v, c);
      case kProtoTcp:
        return Tcp(v, c);
      default:
        return Data(v, c);
    }
  }

  void Icmp(View v, const Context& c) {
    if (!Require(v, 4, "icmp", c)) return Data(v, c);
    const uint8_t type = v.U8(0);
    Layer("icmp", v.offset(), std::min<size_t>(8, v.size()), c);
    Uint("icmp.type", type, c);
    Uint("icmp.code", v.U8(1), c);
    Uint("icmp.checksum", v.U16(2), c);
    const bool echo = type == 0 || type == 8;
    const bool error = type == 3 || type == 11 || type == 12;
    if (!echo && !error) return Data(v.Sub(std::min<size_t>(8, v.size())), c);
    if (!Require(v, 8, "icmp", c)) return Data(v.Sub(4), c);
    if (echo) {
      Uint("icmp.ident", v.U16(4), c);
      Uint("icmp.seq", v.U16(6), c);
      return Data(v.Sub(8), c);
    }
    if (type == 3 && v.U8(1) == 4) Uint("icmp.mtu", v.U16(6), c);
    Quoted(v.Sub(8), c, /*ipv6=*/false);
  }

  void Icmpv6(View v, const Context& c) {
    if (!Require(v, 4, "icmpv6", c)) return Data(v, c);
    const uint8_t type = v.U8(0);
    const bool echo_or_error = type == 128 || type == 129 || (type >= 1 && type <= 4);
    Layer("icmpv6", v.offset(), echo_or_error ? std::min<size_t>(8, v.size()) : v.size(), c);
    Uint("icmpv6.type", type, c);
    Uint("icmpv6.code", v.U8(1), c);
    Uint("icmpv6.checksum", v.U16(2), c);
    if (type == 128 || type == 129) {
      if (!Require(v, 8, "icmpv6", c)) return Data(v.Sub(4), c);
      Uint("icmpv6.echo.identifier", v.U16(4), c);
      Uint("icmpv6.echo.sequence_number", v.U16(6), c);
      return Data(v.Sub(8), c);
    }
    if (type >= 1 && type <= 4) {
      if (!Require(v, 8, "icmpv6", c)) return Data(v.Sub(4), c);
      if (type == 2) Uint("icmpv6.mtu", v.U32(4), c);
      return Quoted(v.Sub(8), c, /*ipv6=*/true);
    }
    if (type == 135 || type == 136) {
      if (!Require(v, 24, "icmpv6", c)) return;
      Ipv6Addr(type == 135 ? "icmpv6.nd.ns.target_address" : "icmpv6.nd.na.target_address",
               v.Fixed<16>(8), c);
    }
    // Other messages (router and neighbor discovery options, MLD) are not decoded further.
  }

  // The datagram quoted by an ICMP error: decoded once, never an error inside an error.
  void Quoted(View v, const Context& c, bool ipv6) {
    if (v.empty()) return;
    if (c.quoted) return Data(v, c);
    Context inner{c.prefix + "orig.", c.depth, /*quoted=*/true};
    if (ipv6) return Ipv6(v, inner);
    Ipv4(v, inner);
  }

  void Udp(View v, const Context& c) {
    if (!Require(v, 8, "udp", c)) return Data(v, c);
    const uint16_t dst_port = v.U16(2);
    const uint16_t length = v.U16(4);
    Layer("udp", v.offset(), 8, c);
    Uint("udp.srcport", v.U16(0), c);
    Uint("udp.dstport", dst_port, c);
    Uint("udp.length", length, c);
    Uint("udp.checksum", v.U16(6), c);
    if (length < 8) {
      Error(At(v, c, "udp", internal::Cat("length ", length, " is below 8")));
      return Data(v.Sub(8), c);
    }
    View payload = Payload(v, 8, length, "udp", c);
    const auto& ports = options_.vxlan_ports;
    if (!c.quoted && std::find(ports.begin(), ports.end(), dst_port) != ports.end()) {
      return Vxlan(payload, c);
    }
    Data(payload, c);
  }

  void Tcp(View v, const Context& c) {
    if (c.quoted && v.size() >= 8 && v.size() < 20) {
      // An ICMP error quotes at least 8 bytes of the transport header: enough for the ports.
      Layer("tcp", v.offset(), v.size(), c);
      Uint("tcp.srcport", v.U16(0), c);
      Uint("tcp.dstport", v.U16(2), c);
      return;
    }
    if (!Require(v, 20, "tcp", c)) return Data(v, c);
    const size_t header_length = static_cast<size_t>(v.U8(12) >> 4) * 4;
    Layer("tcp", v.offset(), std::min(std::max<size_t>(header_length, 20), v.size()), c);
    Uint("tcp.srcport", v.U16(0), c);
    Uint("tcp.dstport", v.U16(2), c);
    Uint("tcp.seq_raw", v.U32(4), c);
    Uint("tcp.ack_raw", v.U32(8), c);
    Uint("tcp.hdr_len", header_length, c);
    Uint("tcp.flags", v.U16(12) & 0x0fff, c);
    Uint("tcp.window_size_value", v.U16(14), c);
    Uint("tcp.checksum", v.U16(16), c);
    Uint("tcp.urgent_pointer", v.U16(18), c);
    if (header_length < 20) {
      Error(At(v, c, "tcp", internal::Cat("header length ", header_length, " is below 20")));
      return;
    }
    if (!Require(v, header_length, "tcp", c)) return;
    Data(v.Sub(header_length), c);
  }

  void Vxlan(View v, const Context& c) {
    if (!Require(v, 8, "vxlan", c)) return Data(v, c);
    Layer("vxlan", v.offset(), 8, c);
    Uint("vxlan.flags", v.U16(0), c);
    Uint("vxlan.vni", v.U32(4) >> 8, c);
    if (c.depth + 1 > options_.max_nesting) {
      Error(At(v, c, "vxlan", "nesting deeper than the decode limit; inner frame not decoded"));
      return Data(v.Sub(8), c);
    }
    Ethernet(v.Sub(8), Context{c.prefix + "inner.", c.depth + 1, c.quoted});
  }

  // The payload of a header whose length field says `total` bytes (header included). A shorter
  // buffer is a truncation, except in a quoted datagram where cutting is the norm.
  View Payload(View v, size_t header, size_t total, std::string_view layer, const Context& c) {
    if (total > v.size() && !c.quoted) {
      Error(At(
          v, c, layer,
          internal::Cat("truncated: length field says ", total, " bytes, ", v.size(), " present")));
    }
    return v.Sub(header, total > header ? total - header : 0);
  }

  // True when `v` holds at least `n` bytes; otherwise notes the truncation.
  bool Require(View v, size_t n, std::string_view layer, const Context& c) {
    if (v.size() >= n) return true;
    if (c.quoted && layer != "ip" && layer != "ipv6") return false;
    Error(At(v, c, layer, internal::Cat("truncated: ", v.size(), " of ", n, " bytes")));
    return false;
  }

  std::string At(View v, const Context& c, std::string_view layer, std::string_view what) {
    return internal::Cat(c.prefix, layer, " at offset ", v.offset(), ": ", what);
  }

  void Layer(std::string_view name, size_t offset, size_t length, const Context& c) {
    out_.AddLayer(internal::Cat(c.prefix, name), offset, length);
  }
  void Uint(std::string_view name, uint64_t value, const Context& c) {
    out_.AddField(internal::Cat(c.prefix, name), FieldValue::Uint(value));
  }
  void Mac(std::string_view name, std::span<const uint8_t, 6> value, const Context& c) {
    out_.AddField(internal::Cat(c.prefix, name), FieldValue::Mac(value));
  }
  void Ipv4Addr(std::string_view name, std::span<const uint8_t, 4> value, const Context& c) {
    out_.AddField(internal::Cat(c.prefix, name), FieldValue::Ipv4(value));
  }
  void Ipv6Addr(std::string_view name, std::span<const uint8_t, 16> value, const Context& c) {
    out_.AddField(internal::Cat(c.prefix, name), FieldValue::Ipv6(value));
  }
  void Error(std::string note) { out_.AddError(std::move(note)); }

  DecodedPacket& out_;
  const DecodeOptions& options_;
};

}  // namespace

DecodedPacket Decode(std::span<const uint8_t> frame, int link_type, const DecodeOptions& options) {
  DecodedPacket packet;
  Decoder decoder(packet, options);
  View view(frame, 0);
  switch (link_type) {
    case kLinkTypeEthernet:
      decoder.Ethernet(view, Context{});
      break;
    case kLinkTypeLinuxSll:
      decoder.LinuxSll(view, Context{});
      break;
    default:
      packet.AddError(internal::Cat("link type ", link_type, " is not decoded"));
      decoder.Data(view, Context{});
      break;
  }
  return packet;
}

}  // namespace nsmcert::pcap
