// Typed values of decoded packet fields, and the catalogue of field names the decoders emit.
//
// Field names follow Wireshark's display-filter names (`eth.src`, `ip.ttl`, `udp.dstport`,
// `vxlan.vni`, ...) so that a decode can be compared with `tshark -T fields` field by field. Layers
// nested inside another packet carry a prefix: `inner.` for the frame inside a VXLAN header,
// `orig.` for the datagram quoted inside an ICMP/ICMPv6 error (`inner.ip.src`, `orig.udp.dstport`).
// The catalogue is keyed by the name without those prefixes.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::pcap {

enum class FieldKind : uint8_t {
  kUint,   // an unsigned number (ports, TTL, flags, checksums, ...)
  kMac,    // 6 bytes
  kIpv4,   // 4 bytes
  kIpv6,   // 16 bytes
  kBytes,  // raw bytes of any length (payloads)
};

std::string_view FieldKindName(FieldKind kind);

// A value of one field. Cheap to copy for numbers; byte-valued kinds own their bytes.
// Two values are equal when kind and content are equal.
class FieldValue {
 public:
  FieldValue() = default;

  static FieldValue Uint(uint64_t value);
  static FieldValue Mac(std::span<const uint8_t, 6> octets);
  static FieldValue Ipv4(std::span<const uint8_t, 4> octets);
  static FieldValue Ipv6(std::span<const uint8_t, 16> octets);
  static FieldValue Bytes(std::span<const uint8_t> bytes);

  FieldKind kind() const { return kind_; }
  // The number of a kUint value; 0 for other kinds.
  uint64_t uint() const { return number_; }
  // The bytes of a kMac/kIpv4/kIpv6/kBytes value; empty for kUint.
  std::span<const uint8_t> bytes() const { return bytes_; }

  // Decimal for numbers (or `0x` and `hex_digits` hex digits when hex_digits > 0), colon-separated
  // lowercase for MACs, dotted quad for IPv4, RFC 5952 text for IPv6, plain lowercase hex for
  // bytes.
  std::string ToString(int hex_digits = 0) const;

  friend bool operator==(const FieldValue& a, const FieldValue& b) {
    return a.kind_ == b.kind_ && a.number_ == b.number_ && a.bytes_ == b.bytes_;
  }

 private:
  FieldKind kind_ = FieldKind::kUint;
  uint64_t number_ = 0;
  std::vector<uint8_t> bytes_;
};

// One entry of the field catalogue.
struct FieldSpec {
  std::string_view name;  // without nesting prefixes, e.g. "ip.ttl"
  FieldKind kind;
  int hex_digits;  // how numbers are shown: 0 = decimal, else 0x and this many hex digits
  std::string_view description;
};

// Every field the decoders emit, in a stable order.
std::span<const FieldSpec> AllFieldSpecs();

// Strips the nesting prefixes (`inner.`, `orig.`, repeated) from a field name.
std::string_view BaseFieldName(std::string_view name);

// The catalogue entry of a field name (nesting prefixes allowed), or nullptr when unknown.
const FieldSpec* FindFieldSpec(std::string_view name);

// Renders `value` the way the catalogue says field `name` is shown (hex or decimal).
std::string FormatFieldValue(std::string_view name, const FieldValue& value);

// Parses the text form of a value of field `name` (nesting prefixes allowed), according to the
// field's kind: numbers in decimal or 0x-hex, MACs as aa:bb:cc:dd:ee:ff, IPv4 dotted quad, IPv6
// text, bytes as hex digits (colons allowed). Errors name the field and the text.
absl::StatusOr<FieldValue> ParseFieldValue(std::string_view name, std::string_view text);

// Address parsers shared by templates and packet builders. Errors name the text.
absl::StatusOr<std::array<uint8_t, 6>> ParseMac(std::string_view text);
absl::StatusOr<std::array<uint8_t, 4>> ParseIpv4(std::string_view text);
absl::StatusOr<std::array<uint8_t, 16>> ParseIpv6(std::string_view text);

}  // namespace nsmcert::pcap
