#include "pcap/field.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

using K = FieldKind;

// Hex widths follow what tshark prints, so a human can compare the two outputs by eye.
constexpr FieldSpec kFieldSpecs[] = {
    {"eth.dst", K::kMac, 0, "Ethernet destination"},
    {"eth.src", K::kMac, 0, "Ethernet source"},
    {"eth.type", K::kUint, 4, "EtherType"},
    {"sll.pkttype", K::kUint, 0, "Linux cooked capture: packet type"},
    {"sll.hatype", K::kUint, 0, "Linux cooked capture: link-layer address type"},
    {"sll.halen", K::kUint, 0, "Linux cooked capture: link-layer address length"},
    {"sll.src.eth", K::kMac, 0, "Linux cooked capture: source MAC"},
    {"sll.etype", K::kUint, 4, "Linux cooked capture: protocol"},
    {"vlan.priority", K::kUint, 0, "802.1Q priority code point"},
    {"vlan.dei", K::kUint, 0, "802.1Q drop eligible indicator"},
    {"vlan.id", K::kUint, 0, "802.1Q VLAN id"},
    {"vlan.etype", K::kUint, 4, "802.1Q encapsulated EtherType"},
    {"vlan2.priority", K::kUint, 0, "second (inner) 802.1Q tag: priority"},
    {"vlan2.dei", K::kUint, 0, "second (inner) 802.1Q tag: drop eligible indicator"},
    {"vlan2.id", K::kUint, 0, "second (inner) 802.1Q tag: VLAN id"},
    {"vlan2.etype", K::kUint, 4, "second (inner) 802.1Q tag: encapsulated EtherType"},
    {"arp.hw.type", K::kUint, 0, "ARP hardware type"},
    {"arp.proto.type", K::kUint, 4, "ARP protocol type"},
    {"arp.hw.size", K::kUint, 0, "ARP hardware address size"},
    {"arp.proto.size", K::kUint, 0, "ARP protocol address size"},
    {"arp.opcode", K::kUint, 0, "ARP opcode (1 request, 2 reply)"},
    {"arp.src.hw_mac", K::kMac, 0, "ARP sender MAC"},
    {"arp.src.proto_ipv4", K::kIpv4, 0, "ARP sender IPv4"},
    {"arp.dst.hw_mac", K::kMac, 0, "ARP target MAC"},
    {"arp.dst.proto_ipv4", K::kIpv4, 0, "ARP target IPv4"},
    {"ip.version", K::kUint, 0, "IP version (4)"},
    {"ip.hdr_len", K::kUint, 0, "IPv4 header length in bytes"},
    {"ip.dsfield", K::kUint, 2, "IPv4 DS field (DSCP and ECN)"},
    {"ip.len", K::kUint, 0, "IPv4 total length"},
    {"ip.id", K::kUint, 4, "IPv4 identification"},
    {"ip.flags", K::kUint, 2, "IPv4 flags, 3 bits (0x02 DF, 0x01 MF)"},
    {"ip.flags.df", K::kUint, 0, "IPv4 don't fragment"},
    {"ip.flags.mf", K::kUint, 0, "IPv4 more fragments"},
    {"ip.frag_offset", K::kUint, 0, "IPv4 fragment offset in 8-byte units"},
    {"ip.ttl", K::kUint, 0, "IPv4 time to live"},
    {"ip.proto", K::kUint, 0, "IPv4 protocol"},
    {"ip.checksum", K::kUint, 4, "IPv4 header checksum"},
    {"ip.src", K::kIpv4, 0, "IPv4 source"},
    {"ip.dst", K::kIpv4, 0, "IPv4 destination"},
    {"ipv6.version", K::kUint, 0, "IP version (6)"},
    {"ipv6.tclass", K::kUint, 2, "IPv6 traffic class"},
    {"ipv6.flow", K::kUint, 5, "IPv6 flow label"},
    {"ipv6.plen", K::kUint, 0, "IPv6 payload length"},
    {"ipv6.nxt", K::kUint, 0, "IPv6 next header (of the fixed header)"},
    {"ipv6.hlim", K::kUint, 0, "IPv6 hop limit"},
    {"ipv6.src", K::kIpv6, 0, "IPv6 source"},
    {"ipv6.dst", K::kIpv6, 0, "IPv6 destination"},
    {"ipv6.fraghdr.offset", K::kUint, 0, "IPv6 fragment header: offset in 8-byte units"},
    {"ipv6.fraghdr.more", K::kUint, 0, "IPv6 fragment header: more fragments"},
    {"icmp.type", K::kUint, 0, "ICMP type"},
    {"icmp.code", K::kUint, 0, "ICMP code"},
    {"icmp.checksum", K::kUint, 4, "ICMP checksum"},
    {"icmp.ident", K::kUint, 0, "ICMP echo identifier"},
    {"icmp.seq", K::kUint, 0, "ICMP echo sequence number"},
    {"icmp.mtu", K::kUint, 0, "ICMP fragmentation needed: next-hop MTU"},
    {"icmpv6.type", K::kUint, 0, "ICMPv6 type"},
    {"icmpv6.code", K::kUint, 0, "ICMPv6 code"},
    {"icmpv6.checksum", K::kUint, 4, "ICMPv6 checksum"},
    {"icmpv6.echo.identifier", K::kUint, 4, "ICMPv6 echo identifier"},
    {"icmpv6.echo.sequence_number", K::kUint, 0, "ICMPv6 echo sequence number"},
    {"icmpv6.mtu", K::kUint, 0, "ICMPv6 packet too big: MTU"},
    {"icmpv6.nd.ns.target_address", K::kIpv6, 0, "neighbor solicitation target"},
    {"icmpv6.nd.na.target_address", K::kIpv6, 0, "neighbor advertisement target"},
    {"udp.srcport", K::kUint, 0, "UDP source port"},
    {"udp.dstport", K::kUint, 0, "UDP destination port"},
    {"udp.length", K::kUint, 0, "UDP length"},
    {"udp.checksum", K::kUint, 4, "UDP checksum"},
    {"tcp.srcport", K::kUint, 0, "TCP source port"},
    {"tcp.dstport", K::kUint, 0, "TCP destination port"},
    {"tcp.seq_raw", K::kUint, 0, "TCP sequence number (absolute)"},
    {"tcp.ack_raw", K::kUint, 0, "TCP acknowledgment number (absolute)"},
    {"tcp.hdr_len", K::kUint, 0, "TCP header length in bytes"},
    {"tcp.flags", K::kUint, 4, "TCP flags (0x002 SYN, 0x010 ACK, 0x004 RST, 0x001 FIN)"},
    {"tcp.window_size_value", K::kUint, 0, "TCP window (unscaled)"},
    {"tcp.checksum", K::kUint, 4, "TCP checksum"},
    {"tcp.urgent_pointer", K::kUint, 0, "TCP urgent pointer"},
    {"vxlan.flags", K::kUint, 4, "VXLAN flags (0x0800: VNI present)"},
    {"vxlan.vni", K::kUint, 0, "VXLAN network identifier"},
    {"data.len", K::kUint, 0, "length of the undecoded payload after the last layer"},
    {"data.data", K::kBytes, 0, "the undecoded payload after the last layer"},
};

constexpr std::string_view kNestingPrefixes[] = {"inner.", "orig."};

const absl::flat_hash_map<std::string_view, const FieldSpec*>& SpecIndex() {
  static const auto* index = [] {
    auto* m = new absl::flat_hash_map<std::string_view, const FieldSpec*>();
    for (const FieldSpec& spec : kFieldSpecs) m->emplace(spec.name, &spec);
    return m;
  }();
  return *index;
}

absl::StatusOr<uint64_t> ParseUint(std::string_view text) {
  std::string_view digits = text;
  int base = 10;
  if (digits.starts_with("0x") || digits.starts_with("0X")) {
    digits.remove_prefix(2);
    base = 16;
  }
  uint64_t value = 0;
  const char* end = digits.data() + digits.size();
  auto [ptr, ec] = std::from_chars(digits.data(), end, value, base);
  if (digits.empty() || ec != std::errc() || ptr != end) {
    return absl::InvalidArgumentError(internal::Cat("'", text, "' is not an unsigned number"));
  }
  return value;
}

absl::StatusOr<std::vector<uint8_t>> ParseHexBytes(std::string_view text) {
  std::string digits;
  for (char c : text) {
    if (c == ':' || c == ' ') continue;
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError(internal::Cat("'", text, "' is not hex bytes"));
    }
    digits.push_back(c);
  }
  if (digits.size() % 2 != 0) {
    return absl::InvalidArgumentError(
        internal::Cat("'", text, "' has an odd number of hex digits"));
  }
  std::vector<uint8_t> out;
  out.reserve(digits.size() / 2);
  for (size_t i = 0; i < digits.size(); i += 2) {
    unsigned value = 0;
    std::from_chars(digits.data() + i, digits.data() + i + 2, value, 16);
    out.push_back(static_cast<uint8_t>(value));
  }
  return out;
}

}  // namespace

std::string_view FieldKindName(FieldKind kind) {
  switch (kind) {
    case FieldKind::kUint:
      return "number";
    case FieldKind::kMac:
      return "MAC address";
    case FieldKind::kIpv4:
      return "IPv4 address";
    case FieldKind::kIpv6:
      return "IPv6 address";
    case FieldKind::kBytes:
      return "bytes";
  }
  return "unknown";
}

FieldValue FieldValue::Uint(uint64_t value) {
  FieldValue v;
  v.kind_ = FieldKind::kUint;
  v.number_ = value;
  return v;
}

FieldValue FieldValue::Mac(std::span<const uint8_t, 6> octets) {
  FieldValue v;
  v.kind_ = FieldKind::kMac;
  v.bytes_.assign(octets.begin(), octets.end());
  return v;
}

FieldValue FieldValue::Ipv4(std::span<const uint8_t, 4> octets) {
  FieldValue v;
  v.kind_ = FieldKind::kIpv4;
  v.bytes_.assign(octets.begin(), octets.end());
  return v;
}

FieldValue FieldValue::Ipv6(std::span<const uint8_t, 16> octets) {
  FieldValue v;
  v.kind_ = FieldKind::kIpv6;
  v.bytes_.assign(octets.begin(), octets.end());
  return v;
}

FieldValue FieldValue::Bytes(std::span<const uint8_t> bytes) {
  FieldValue v;
  v.kind_ = FieldKind::kBytes;
  v.bytes_.assign(bytes.begin(), bytes.end());
  return v;
}

std::string FieldValue::ToString(int hex_digits) const {
  switch (kind_) {
    case FieldKind::kUint:
      if (hex_digits > 0) return absl::StrFormat("0x%0*x", hex_digits, number_);
      return internal::Cat(number_);
    case FieldKind::kMac:
      return absl::StrFormat("%02x:%02x:%02x:%02x:%02x:%02x", bytes_[0], bytes_[1], bytes_[2],
                             bytes_[3], bytes_[4], bytes_[5]);
    case FieldKind::kIpv4:
      return absl::StrFormat("%d.%d.%d.%d", bytes_[0], bytes_[1], bytes_[2], bytes_[3]);
    case FieldKind::kIpv6: {
      char text[INET6_ADDRSTRLEN] = {};
      inet_ntop(AF_INET6, bytes_.data(), text, sizeof(text));
      return text;
    }
    case FieldKind::kBytes: {
      std::string out;
      out.reserve(bytes_.size() * 2);
      for (uint8_t b : bytes_) absl::StrAppendFormat(&out, "%02x", b);
      return out;
    }
  }
  return "";
}

std::span<const FieldSpec> AllFieldSpecs() { return kFieldSpecs; }

std::string_view BaseFieldName(std::string_view name) {
  bool stripped = true;
  while (stripped) {
    stripped = false;
    for (std::string_view prefix : kNestingPrefixes) {
      if (name.starts_with(prefix)) {
        name.remove_prefix(prefix.size());
        stripped = true;
      }
    }
  }
  return name;
}

const FieldSpec* FindFieldSpec(std::string_view name) {
  const auto& index = SpecIndex();
  auto it = index.find(BaseFieldName(name));
  return it == index.end() ? nullptr : it->second;
}

std::string FormatFieldValue(std::string_view name, const FieldValue& value) {
  const FieldSpec* spec = FindFieldSpec(name);
  return value.ToString(spec != nullptr && value.kind() == FieldKind::kUint ? spec->hex_digits : 0);
}

absl::StatusOr<std::array<uint8_t, 6>> ParseMac(std::string_view text) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    const size_t colon = text.find(':', start);
    parts.push_back(text.substr(start, colon == std::string_view::npos ? colon : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  std::array<uint8_t, 6> mac{};
  bool ok = parts.size() == mac.size();
  for (size_t i = 0; ok && i < mac.size(); ++i) {
    unsigned value = 0;
    const char* end = parts[i].data() + parts[i].size();
    auto [ptr, ec] = std::from_chars(parts[i].data(), end, value, 16);
    ok = !parts[i].empty() && parts[i].size() <= 2 && ec == std::errc() && ptr == end;
    mac[i] = static_cast<uint8_t>(value);
  }
  if (!ok) return absl::InvalidArgumentError(internal::Cat("'", text, "' is not a MAC address"));
  return mac;
}

absl::StatusOr<std::array<uint8_t, 4>> ParseIpv4(std::string_view text) {
  std::array<uint8_t, 4> out{};
  // inet_pton needs a terminated string; it also rejects leading zeros and short forms.
  if (inet_pton(AF_INET, std::string(text).c_str(), out.data()) != 1) {
    return absl::InvalidArgumentError(internal::Cat("'", text, "' is not an IPv4 address"));
  }
  return out;
}

absl::StatusOr<std::array<uint8_t, 16>> ParseIpv6(std::string_view text) {
  std::array<uint8_t, 16> out{};
  if (inet_pton(AF_INET6, std::string(text).c_str(), out.data()) != 1) {
    return absl::InvalidArgumentError(internal::Cat("'", text, "' is not an IPv6 address"));
  }
  return out;
}

absl::StatusOr<FieldValue> ParseFieldValue(std::string_view name, std::string_view text) {
  const FieldSpec* spec = FindFieldSpec(name);
  if (spec == nullptr) {
    return absl::InvalidArgumentError(internal::Cat("unknown field '", name, "'"));
  }
  auto fail = [&](const absl::Status& status) {
    return absl::InvalidArgumentError(
        internal::Cat("field '", name, "' (", FieldKindName(spec->kind), "): ", status.message()));
  };
  switch (spec->kind) {
    case FieldKind::kUint: {
      auto value = ParseUint(text);
      if (!value.ok()) return fail(value.status());
      return FieldValue::Uint(*value);
    }
    case FieldKind::kMac: {
      auto value = ParseMac(text);
      if (!value.ok()) return fail(value.status());
      return FieldValue::Mac(*value);
    }
    case FieldKind::kIpv4: {
      auto value = ParseIpv4(text);
      if (!value.ok()) return fail(value.status());
      return FieldValue::Ipv4(*value);
    }
    case FieldKind::kIpv6: {
      auto value = ParseIpv6(text);
      if (!value.ok()) return fail(value.status());
      return FieldValue::Ipv6(*value);
    }
    case FieldKind::kBytes: {
      auto value = ParseHexBytes(text);
      if (!value.ok()) return fail(value.status());
      return FieldValue::Bytes(*value);
    }
  }
  return absl::InternalError("unreachable field kind");
}

}  // namespace nsmcert::pcap
