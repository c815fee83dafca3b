#include "conformance/harness/ip_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <string>

#include "absl/status/status.h"
#include "conformance/harness/str_util.h"

namespace nsmcert::harness {

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  // inet_pton needs a NUL-terminated string.
  const std::string copy(text);
  IpAddress result;
  if (inet_pton(AF_INET, copy.c_str(), result.bytes_.data()) == 1) {
    result.family_ = Family::kV4;
    return result;
  }
  if (inet_pton(AF_INET6, copy.c_str(), result.bytes_.data()) == 1) {
    result.family_ = Family::kV6;
    return result;
  }
  return absl::InvalidArgumentError(internal::Cat("\"", text, "\" is not an IPv4 or IPv6 address"));
}

IpAddress IpAddress::FromBytes(Family family, const std::array<std::uint8_t, 16>& bytes) {
  IpAddress result;
  result.family_ = family;
  result.bytes_ = bytes;
  if (family == Family::kV4) std::fill(result.bytes_.begin() + 4, result.bytes_.end(), 0);
  return result;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  inet_ntop(is_v4() ? AF_INET : AF_INET6, bytes_.data(), buffer, sizeof(buffer));
  return buffer;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(
        internal::Cat("\"", text, "\" is not a prefix: expected <address>/<length>"));
  }
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(
        internal::Cat("\"", text, "\" is not a prefix: ", address.status().message()));
  }
  const std::string_view length_text = text.substr(slash + 1);
  int length = -1;
  const auto [end, error] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (length_text.empty() || error != std::errc() ||
      end != length_text.data() + length_text.size() || length < 0 ||
      length > address->bit_length()) {
    return absl::InvalidArgumentError(internal::Cat(
        "\"", text, "\" has an invalid prefix length (0..", address->bit_length(), ")"));
  }
  IpPrefix prefix;
  prefix.address_ = *address;
  prefix.length_ = length;
  return prefix;
}

namespace {

// Copies `address` keeping the first `length` bits and setting the rest to `fill`.
IpAddress WithHostBits(const IpAddress& address, int length, bool fill) {
  std::array<std::uint8_t, 16> bytes = address.bytes();
  for (int bit = length; bit < address.bit_length(); ++bit) {
    const auto mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    bytes[bit / 8] =
        static_cast<std::uint8_t>(fill ? (bytes[bit / 8] | mask) : (bytes[bit / 8] & ~mask));
  }
  return IpAddress::FromBytes(address.family(), bytes);
}

}  // namespace

bool IpPrefix::IsNetworkAddress() const { return Network() == address_; }

bool IpPrefix::Contains(const IpAddress& address) const {
  if (address.family() != address_.family()) return false;
  for (int bit = 0; bit < length_; ++bit) {
    const std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
    if ((address.bytes()[bit / 8] & mask) != (address_.bytes()[bit / 8] & mask)) return false;
  }
  return true;
}

IpAddress IpPrefix::Network() const { return WithHostBits(address_, length_, /*fill=*/false); }

IpAddress IpPrefix::Last() const { return WithHostBits(address_, length_, /*fill=*/true); }

std::string IpPrefix::ToString() const { return internal::Cat(address_.ToString(), "/", length_); }

}  // namespace nsmcert::harness
