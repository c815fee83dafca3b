#include "reference/kernel/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "reference/kernel/str_util.h"

namespace nsmcert::kernel {

absl::StatusOr<IpAddress> IpAddress::Parse(std::string_view text, std::string_view field) {
  std::string buf(text);
  IpAddress ip;
  if (inet_pton(AF_INET, buf.c_str(), ip.bytes.data()) == 1) {
    ip.family = IpFamily::kV4;
    return ip;
  }
  if (inet_pton(AF_INET6, buf.c_str(), ip.bytes.data()) == 1) {
    ip.family = IpFamily::kV6;
    return ip;
  }
  return absl::InvalidArgumentError(
      internal::Cat(field, ": \"", text, "\" is not an IPv4 or IPv6 address"));
}

int IpAddress::af() const { return family == IpFamily::kV4 ? AF_INET : AF_INET6; }

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(af(), bytes.data(), buf, sizeof(buf));
  return buf;
}

absl::StatusOr<IpPrefix> IpPrefix::Parse(std::string_view text, std::string_view field,
                                         bool allow_bare) {
  size_t slash = text.find('/');
  std::string_view addr_text = slash == std::string_view::npos ? text : text.substr(0, slash);
  absl::StatusOr<IpAddress> addr = IpAddress::Parse(addr_text, field);
  if (!addr.ok()) {
    return absl::InvalidArgumentError(
        internal::Cat(field, ": \"", text, "\" is not a CIDR (want addr/len)"));
  }
  IpPrefix prefix{*addr, addr->bits()};
  if (slash == std::string_view::npos) {
    if (allow_bare) return prefix;
    return absl::InvalidArgumentError(
        internal::Cat(field, ": \"", text, "\" has no prefix length (want addr/len)"));
  }
  std::string_view len_text = text.substr(slash + 1);
  int len = -1;
  auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (len_text.empty() || ec != std::errc() || ptr != len_text.data() + len_text.size() ||
      len < 0 || len > addr->bits()) {
    return absl::InvalidArgumentError(internal::Cat(
        field, ": \"", text, "\" has a bad prefix length (want 0..", addr->bits(), ")"));
  }
  prefix.length = len;
  return prefix;
}

IpPrefix IpPrefix::Network() const {
  IpPrefix net = *this;
  for (int i = 0; i < static_cast<int>(address.size()); ++i) {
    int keep = length - i * 8;
    if (keep >= 8) continue;
    std::uint8_t mask = keep <= 0 ? 0 : static_cast<std::uint8_t>(0xff << (8 - keep));
    net.address.bytes[i] &= mask;
  }
  return net;
}

bool IpPrefix::Contains(const IpAddress& ip) const {
  if (ip.family != address.family) return false;
  IpPrefix other{ip, length};
  return other.Network().address == Network().address;
}

bool IpPrefix::Contains(const IpPrefix& inner) const {
  return inner.family() == family() && inner.length >= length && Contains(inner.address);
}

std::string IpPrefix::ToString() const { return internal::Cat(address.ToString(), "/", length); }

}  // namespace nsmcert::kernel
