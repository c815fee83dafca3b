#include "reference/sdk/tools/cidr.h"

#include <arpa/inet.h>

#include "absl/status/status.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;

absl::uint128 AllOnes(int bits) {
  return bits >= 128 ? ~absl::uint128(0) : (absl::uint128(1) << bits) - 1;
}

absl::uint128 HostMask(int bit_length, int prefix_length) {
  return AllOnes(bit_length - prefix_length);
}

}  // namespace

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text) {
  const std::string s(text);
  if (s.find(':') != std::string::npos) {
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) {
      return absl::InvalidArgumentError(Cat("\"", text, "\" is not an IPv6 address"));
    }
    absl::uint128 value = 0;
    for (uint8_t byte : v6.s6_addr) value = (value << 8) | byte;
    return IpAddress(IpFamily::kV6, value);
  }
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) != 1) {
    return absl::InvalidArgumentError(Cat("\"", text, "\" is not an IP address"));
  }
  return IpAddress(IpFamily::kV4, ntohl(v4.s_addr));
}

absl::StatusOr<IpAddress> IpAddress::ParseWithOptionalPrefix(std::string_view text) {
  if (text.find('/') == std::string_view::npos) return Parse(text);
  absl::StatusOr<Cidr> cidr = Cidr::Parse(text);
  if (!cidr.ok()) return cidr.status();
  return cidr->address();
}

IpAddress IpAddress::FromValue(IpFamily family, absl::uint128 value) {
  return IpAddress(family, family == IpFamily::kV4 ? (value & AllOnes(32)) : value);
}

std::array<uint8_t, 16> IpAddress::Bytes16() const {
  std::array<uint8_t, 16> bytes{};
  if (family_ == IpFamily::kV4) {
    bytes[10] = 0xff;
    bytes[11] = 0xff;
    for (int i = 0; i < 4; ++i) {
      bytes[static_cast<size_t>(15 - i)] =
          static_cast<uint8_t>(absl::Uint128Low64(value_ >> (8 * i)));
    }
  } else {
    for (int i = 0; i < 16; ++i) {
      bytes[static_cast<size_t>(15 - i)] =
          static_cast<uint8_t>(absl::Uint128Low64(value_ >> (8 * i)));
    }
  }
  return bytes;
}

std::string IpAddress::ToString() const {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (family_ == IpFamily::kV4) {
    in_addr v4{};
    v4.s_addr = htonl(static_cast<uint32_t>(absl::Uint128Low64(value_)));
    inet_ntop(AF_INET, &v4, buffer, sizeof(buffer));
  } else {
    in6_addr v6{};
    const std::array<uint8_t, 16> bytes = Bytes16();
    for (size_t i = 0; i < 16; ++i) v6.s6_addr[i] = bytes[i];
    inet_ntop(AF_INET6, &v6, buffer, sizeof(buffer));
  }
  return buffer;
}

absl::StatusOr<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return absl::InvalidArgumentError(Cat("CIDR \"", text, "\" has no /prefix-length"));
  }
  absl::StatusOr<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address.ok()) {
    return absl::InvalidArgumentError(Cat("CIDR \"", text, "\": ", address.status().message()));
  }
  const std::string_view length_text = text.substr(slash + 1);
  bool digits_only = !length_text.empty() && length_text.size() <= 3;
  for (char c : length_text) digits_only = digits_only && c >= '0' && c <= '9';
  if (!digits_only || (length_text.size() > 1 && length_text[0] == '0')) {
    return absl::InvalidArgumentError(
        Cat("CIDR \"", text, "\": prefix length \"", length_text, "\" is not a decimal number"));
  }
  int length = 0;
  for (char c : length_text) length = length * 10 + (c - '0');
  if (length > address->bit_length()) {
    return absl::InvalidArgumentError(
        Cat("CIDR \"", text, "\": prefix length ", length, " exceeds ", address->bit_length()));
  }
  return Cidr(*address, length);
}

Cidr Cidr::Host(const IpAddress& address) { return Cidr(address, address.bit_length()); }

IpAddress Cidr::network() const {
  return IpAddress::FromValue(family(),
                              address_.value() & ~HostMask(address_.bit_length(), prefix_length_));
}

IpAddress Cidr::last() const {
  return IpAddress::FromValue(family(),
                              address_.value() | HostMask(address_.bit_length(), prefix_length_));
}

bool Cidr::Contains(const IpAddress& address) const {
  if (address.family() != family()) return false;
  const absl::uint128 mask = ~HostMask(address_.bit_length(), prefix_length_);
  return (address.value() & mask) == (address_.value() & mask);
}

bool Cidr::Contains(const Cidr& other) const {
  return other.family() == family() && other.prefix_length_ >= prefix_length_ &&
         Contains(other.address_);
}

std::string Cidr::ToString() const { return Cat(address_.ToString(), "/", prefix_length_); }

absl::StatusOr<std::vector<std::vector<Cidr>>> ParseCidrGroups(std::string_view text) {
  std::string compact;
  for (char c : text) {
    if (c != ' ') compact.push_back(c);
  }
  std::vector<std::vector<Cidr>> groups;
  if (compact.empty()) return groups;

  const auto invalid = [&text](std::string_view why) {
    return absl::InvalidArgumentError(Cat("CIDR groups \"", text, "\": ", why));
  };
  bool in_group = false;
  bool after_group = false;  // just closed a ']': only ',' or the end may follow
  std::string entry;
  const auto flush = [&](bool own_group) -> absl::Status {
    if (entry.empty()) return invalid("empty entry");
    absl::StatusOr<Cidr> cidr = Cidr::Parse(entry);
    if (!cidr.ok()) return invalid(internal::ToStd(cidr.status().message()));
    if (own_group) groups.emplace_back();
    groups.back().push_back(cidr->Masked());
    entry.clear();
    return absl::OkStatus();
  };

  for (size_t i = 0; i < compact.size(); ++i) {
    const char c = compact[i];
    if (after_group && c != ',')
      return invalid(Cat("unexpected '", std::string(1, c), "' after ']'"));
    switch (c) {
      case '[':
        if (in_group || !entry.empty()) return invalid("unexpected '['");
        in_group = true;
        groups.emplace_back();
        break;
      case ']':
        if (!in_group) return invalid("unexpected ']'");
        if (absl::Status s = flush(false); !s.ok()) return s;
        in_group = false;
        after_group = true;
        break;
      case ',':
        if (after_group) {
          after_group = false;
        } else if (absl::Status s = flush(!in_group); !s.ok()) {
          return s;
        }
        if (i + 1 == compact.size()) return invalid("ends with ','");
        break;
      default:
        entry.push_back(c);
    }
  }
  if (in_group) return invalid("unbalanced '['");
  if (!after_group) {
    if (absl::Status s = flush(true); !s.ok()) return s;
  }
  return groups;
}

}  // namespace nsmcert::sdk::tools
