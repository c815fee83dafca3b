// IPv4/IPv6 addresses and prefixes as the topology model needs them: parse, print, and test
// whether a prefix holds an address. Plain values; no system calls.
#ifndef NSMCERT_CONFORMANCE_HARNESS_IP_ADDRESS_H_
#define NSMCERT_CONFORMANCE_HARNESS_IP_ADDRESS_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsmcert::harness {

class IpAddress {
 public:
  enum class Family { kV4, kV6 };

  // Parses a dotted-quad IPv4 or a textual IPv6 address (no prefix length, no zone).
  // INVALID_ARGUMENT quotes the text.
  static absl::StatusOr<IpAddress> Parse(std::string_view text);
  // From network-order bytes; only the first 4 are read for IPv4.
  static IpAddress FromBytes(Family family, const std::array<std::uint8_t, 16>& bytes);

  Family family() const { return family_; }
  bool is_v4() const { return family_ == Family::kV4; }
  // Address length in bits: 32 or 128.
  int bit_length() const { return is_v4() ? 32 : 128; }
  // Network-order bytes; only the first 4 are used for IPv4.
  const std::array<std::uint8_t, 16>& bytes() const { return bytes_; }
  std::string ToString() const;

  friend bool operator==(const IpAddress&, const IpAddress&) = default;

 private:
  Family family_ = Family::kV4;
  std::array<std::uint8_t, 16> bytes_{};
};

// An address with a prefix length, e.g. 10.100.0.0/24.
class IpPrefix {
 public:
  // Parses "<address>/<length>". INVALID_ARGUMENT quotes the text and says what is wrong.
  static absl::StatusOr<IpPrefix> Parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  // True when the address has no bits set beyond the prefix length (10.1.0.0/16, not 10.1.2.3/16).
  bool IsNetworkAddress() const;
  // Same family and the first length() bits equal.
  bool Contains(const IpAddress& address) const;
  // The first address of the prefix (host bits cleared).
  IpAddress Network() const;
  // The last address of the prefix (host bits set): the IPv4 broadcast address.
  IpAddress Last() const;
  std::string ToString() const;

  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_IP_ADDRESS_H_
