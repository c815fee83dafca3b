// The node's tunnel endpoint: which address VXLAN tunnels use, on which interface, with which MTU
// (spec §4 "MTU negotiation", §13.5 NSM_TUNNEL_IP / NSM_VXLAN_PORT).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "reference/kernel/netlink.h"

namespace nsmcert::forwarder {

struct TunnelConfig {
  std::string ip;             // the tunnel (underlay) address of this node
  std::uint16_t port = 4789;  // the VXLAN UDP port
  std::string device;         // the interface that holds `ip`
  std::uint32_t underlay_mtu = 0;
  std::uint32_t tunnel_mtu = 0;  // underlay_mtu minus the VXLAN overhead of the address family
};

// Builds the config from what a namespace holds: the link that has `ip` among its addresses.
// INVALID_ARGUMENT when `ip` is not an address or `port` is 0 (callers map NSM_VXLAN_PORT=0 to
// 4789 first); NOT_FOUND when no interface holds `ip`; INVALID_ARGUMENT when the MTU is too small
// for VXLAN.
absl::StatusOr<TunnelConfig> TunnelFromLinks(std::string_view ip, std::uint16_t port,
                                             const std::vector<kernel::AddressInfo>& addresses,
                                             const std::vector<kernel::LinkInfo>& links);

// The same, reading addresses and links through `nl` (the forwarder's namespace).
absl::StatusOr<TunnelConfig> DiscoverTunnel(kernel::Netlink& nl, std::string_view ip,
                                            std::uint16_t port);

}  // namespace nsmcert::forwarder
