// IP addresses and CIDR prefixes for IPAM, excluded prefixes, routes and tunnel endpoints, plus
// the `NSM_CIDR_PREFIX` group syntax (`[a,b],c`).
//
// IPv4 and IPv6 are kept apart by family: an address parsed from dotted-quad text is IPv4, one
// parsed from colon text is IPv6 (so `::ffff:1.2.3.4` is IPv6). Values are immutable.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/numeric/int128.h"
#include "absl/status/statusor.h"

namespace nsmcert::sdk::tools {

enum class IpFamily { kV4, kV6 };

class IpAddress {
 public:
  // IPv4 dotted-quad (no leading zeros) or IPv6 text (no zone). InvalidArgument otherwise.
  static absl::StatusOr<IpAddress> Parse(std::string_view text);
  // The address part of `a.b.c.d/n` text, or the text itself without a prefix length.
  static absl::StatusOr<IpAddress> ParseWithOptionalPrefix(std::string_view text);
  // `value` is taken modulo 2^32 for IPv4.
  static IpAddress FromValue(IpFamily family, absl::uint128 value);

  IpFamily family() const { return family_; }
  int bit_length() const { return family_ == IpFamily::kV4 ? 32 : 128; }
  absl::uint128 value() const { return value_; }
  // The 16-byte form Go's net.ParseIP produces (IPv4 as ::ffff:a.b.c.d), which upstream compares
  // byte-wise for the VXLAN VNI parity rule.
  std::array<uint8_t, 16> Bytes16() const;
  // Canonical text: dotted quad, or RFC 5952 IPv6.
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;
  // Orders IPv4 before IPv6, then by value.
  friend bool operator<(const IpAddress& a, const IpAddress& b) {
    return a.family_ != b.family_ ? a.family_ < b.family_ : a.value_ < b.value_;
  }

 private:
  IpAddress(IpFamily family, absl::uint128 value) : family_(family), value_(value) {}

  IpFamily family_ = IpFamily::kV4;
  absl::uint128 value_ = 0;
};

class Cidr {
 public:
  // `address/length`. Host bits may be set (`172.16.1.101/31`); address() keeps them and
  // network() clears them. The length is decimal, 0..32 or 0..128. InvalidArgument otherwise,
  // naming the text.
  static absl::StatusOr<Cidr> Parse(std::string_view text);
  // A single address: /32 or /128.
  static Cidr Host(const IpAddress& address);

  const IpAddress& address() const { return address_; }
  int prefix_length() const { return prefix_length_; }
  IpFamily family() const { return address_.family(); }
  IpAddress network() const;  // lowest address (host bits cleared)
  IpAddress last() const;     // highest address (host bits set)
  Cidr Masked() const { return Cidr(network(), prefix_length_); }
  bool Contains(const IpAddress& address) const;
  // True if every address of `other` is inside this prefix.
  bool Contains(const Cidr& other) const;
  // `address/length` with the address as given (host bits kept).
  std::string ToString() const;

  friend bool operator==(const Cidr&, const Cidr&) = default;

 private:
  Cidr(IpAddress address, int prefix_length) : address_(address), prefix_length_(prefix_length) {}

  IpAddress address_;
  int prefix_length_ = 0;
};

// Parses `NSM_CIDR_PREFIX`: comma-separated prefixes, where a bracketed list `[a,b]` forms one
// group and a bare prefix is a group of its own: `[v1,v2],[v3],v4` -> {{v1,v2},{v3},{v4}}. Spaces
// are ignored; an empty string gives no groups. Prefixes are masked to their network, as Go's
// net.ParseCIDR returns them. InvalidArgument for unbalanced or nested brackets, empty entries,
// or a prefix that does not parse (naming it).
absl::StatusOr<std::vector<std::vector<Cidr>>> ParseCidrGroups(std::string_view text);

}  // namespace nsmcert::sdk::tools
