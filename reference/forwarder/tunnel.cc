#include "reference/forwarder/tunnel.h"

#include "absl/strings/str_cat.h"
#include "reference/kernel/ip.h"
#include "reference/kernel/plan.h"

namespace nsmcert::forwarder {

absl::StatusOr<TunnelConfig> TunnelFromLinks(std::string_view ip, std::uint16_t port,
                                             const std::vector<kernel::AddressInfo>& addresses,
                                             const std::vector<kernel::LinkInfo>& links) {
  auto address = kernel::IpAddress::Parse(ip, "tunnel IP");
  if (!address.ok()) return address.status();
  if (port == 0) return absl::InvalidArgumentError("VXLAN port: must not be 0");
  for (const kernel::AddressInfo& a : addresses) {
    auto held = kernel::IpPrefix::Parse(a.cidr, "address");
    if (!held.ok() || held->address != *address) continue;
    for (const kernel::LinkInfo& link : links) {
      if (link.index != a.link_index) continue;
      auto tunnel_mtu = kernel::VxlanMtu(link.mtu, address->family);
      if (!tunnel_mtu.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("tunnel interface ", link.name, ": ", tunnel_mtu.status().message()));
      }
      TunnelConfig config;
      config.ip = address->ToString();
      config.port = port;
      config.device = link.name;
      config.underlay_mtu = link.mtu;
      config.tunnel_mtu = *tunnel_mtu;
      return config;
    }
  }
  return absl::NotFoundError(
      absl::StrCat("tunnel IP ", std::string(ip), ": no interface of this namespace holds it"));
}

absl::StatusOr<TunnelConfig> DiscoverTunnel(kernel::Netlink& nl, std::string_view ip,
                                            std::uint16_t port) {
  auto addresses = nl.ListAddresses();
  if (!addresses.ok()) return addresses.status();
  auto links = nl.ListLinks();
  if (!links.ok()) return links.status();
  return TunnelFromLinks(ip, port, *addresses, *links);
}

}  // namespace nsmcert::forwarder
