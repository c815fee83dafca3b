// String constants of the NSM wire contract: mechanism classes and types, mechanism parameter keys,
// payloads, gRPC metadata keys, service names and defaults. Every component uses these names; no
// other file spells the strings out.
#pragma once

#include <string_view>

namespace nsmcert::api {

// Mechanism.cls
namespace cls {
inline constexpr std::string_view kLocal = "LOCAL";
inline constexpr std::string_view kRemote = "REMOTE";
}  // namespace cls

// Mechanism.type
namespace mechanism {
inline constexpr std::string_view kKernel = "KERNEL";
inline constexpr std::string_view kMemif = "MEMIF";
inline constexpr std::string_view kVfio = "VFIO";
inline constexpr std::string_view kNoop = "NOOP";
inline constexpr std::string_view kVxlan = "VXLAN";
inline constexpr std::string_view kWireguard = "WIREGUARD";
inline constexpr std::string_view kIpsec = "IPSEC";
inline constexpr std::string_view kVlan = "VLAN";
inline constexpr std::string_view kSrv6 = "SRV6";
}  // namespace mechanism

// Mechanism.parameters keys.
namespace param {
// Shared by several mechanisms.
inline constexpr std::string_view kSrcIp = "src_ip";
inline constexpr std::string_view kDstIp = "dst_ip";
inline constexpr std::string_view kSrcPort = "src_port";
inline constexpr std::string_view kDstPort = "dst_port";
inline constexpr std::string_view kOrigSrcIp = "orig_src_ip";
inline constexpr std::string_view kOrigDstIp = "orig_dst_ip";
inline constexpr std::string_view kNetNsInode = "netnsInode";
inline constexpr std::string_view kName = "name";
inline constexpr std::string_view kInodeUrl = "inodeURL";
inline constexpr std::string_view kPciAddress = "pciAddress";
inline constexpr std::string_view kTokenId = "tokenID";
inline constexpr std::string_view kMtu = "MTU";
// KERNEL.
inline constexpr std::string_view kSupportsVlan = "supportsVlan";
inline constexpr std::string_view kVlan = "vlan";
inline constexpr std::string_view kRouteLocalNet = "routeLocalNet";
inline constexpr std::string_view kIpTables4NatTemplate = "IPTables4NatTemplate";
// MEMIF.
inline constexpr std::string_view kSocketFile = "socketfile";
// VXLAN.
inline constexpr std::string_view kVni = "vni";
// WIREGUARD / IPSEC.
inline constexpr std::string_view kSrcPublicKey = "src_public_key";
inline constexpr std::string_view kDstPublicKey = "dst_public_key";
// VLAN (remote-vlan NSE).
inline constexpr std::string_view kVlanId = "vlan-id";
}  // namespace param

// NetworkService.payload / Connection.payload.
namespace payload {
inline constexpr std::string_view kEthernet = "ETHERNET";
inline constexpr std::string_view kIp = "IP";
}  // namespace payload

// gRPC metadata keys.
namespace metadata {
inline constexpr std::string_view kClientToken = "nsm-client-token";
inline constexpr std::string_view kClientTokenExpires = "nsm-client-token-expires";
// Registry calls carry their path as JSON under this key, request and response header.
inline constexpr std::string_view kRegistryPath = "path";
}  // namespace metadata

// Labels added from the environment (clientinfo).
namespace label {
inline constexpr std::string_view kNodeName = "nodeName";
inline constexpr std::string_view kPodName = "podName";
inline constexpr std::string_view kClusterName = "clusterName";
inline constexpr std::string_view kP2p = "p2p";
}  // namespace label

// Fully qualified gRPC service names, as registered with the health service.
namespace service {
inline constexpr std::string_view kNetworkService = "networkservice.NetworkService";
inline constexpr std::string_view kMonitorConnection = "connection.MonitorConnection";
inline constexpr std::string_view kNetworkServiceRegistry = "registry.NetworkServiceRegistry";
inline constexpr std::string_view kNetworkServiceEndpointRegistry =
    "registry.NetworkServiceEndpointRegistry";
inline constexpr std::string_view kIpam = "ipam.IPAM";
}  // namespace service

// Defaults shared with upstream.
namespace defaults {
inline constexpr std::string_view kForwarderNetworkService = "forwarder";
inline constexpr unsigned kVxlanPort = 4789;
inline constexpr unsigned kWireguardPort = 51820;
inline constexpr unsigned kIpsecPort = 4500;
// Linux interface names hold at most 15 bytes (IFNAMSIZ - 1).
inline constexpr unsigned kMaxInterfaceNameLength = 15;
// VXLAN header overhead over IPv4 / IPv6 underlays.
inline constexpr unsigned kVxlanOverheadV4 = 54;
inline constexpr unsigned kVxlanOverheadV6 = 74;
inline constexpr unsigned kMaxVni = (1u << 24) - 1;
}  // namespace defaults

}  // namespace nsmcert::api
