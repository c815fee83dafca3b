// IP addresses and CIDR prefixes as plain values: parsing with errors that name the field, family,
// containment. No system calls; used by plans and by the netlink encoder.
#ifndef NSMCERT_REFERENCE_KERNEL_IP_H_
#define NSMCERT_REFERENCE_KERNEL_IP_H_

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsmcert::kernel {

enum class IpFamily : std::uint8_t { kV4 = 4, kV6 = 6 };

// One IPv4 or IPv6 address. IPv4 uses the first 4 bytes of `bytes`.
struct IpAddress {
  IpFamily family = IpFamily::kV4;
  std::array<std::uint8_t, 16> bytes{};

  // Parses "10.0.0.1" or "fd00::1". `field` names the input in errors.
  static absl::StatusOr<IpAddress> Parse(std::string_view text, std::string_view field = "address");
  size_t size() const { return family == IpFamily::kV4 ? 4 : 16; }
  int bits() const { return family == IpFamily::kV4 ? 32 : 128; }
  int af() const;  // AF_INET / AF_INET6
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// An address with a prefix length, as in "10.0.0.1/31". The address keeps its host bits (an
// interface address); Network() clears them.
struct IpPrefix {
  IpAddress address;
  int length = 0;

  // Parses "addr/len". Without "/len" fails, unless `allow_bare` (then /32 or /128).
  static absl::StatusOr<IpPrefix> Parse(std::string_view text, std::string_view field = "prefix",
                                        bool allow_bare = false);
  IpFamily family() const { return address.family; }
  IpPrefix Network() const;  // host bits cleared
  bool Contains(const IpAddress& ip) const;
  // True when every address of `inner` is inside this prefix.
  bool Contains(const IpPrefix& inner) const;
  std::string ToString() const;  // "addr/len" with the address as stored
  friend bool operator==(const IpPrefix&, const IpPrefix&) = default;
};

}  // namespace nsmcert::kernel

#endif  // NSMCERT_REFERENCE_KERNEL_IP_H_
