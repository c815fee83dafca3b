// Checks of mechanism parameters (spec §4) shared by the forwarder's mechanism handlers and its
// data-path planner. Every error is INVALID_ARGUMENT and names the mechanism and the parameter:
// `KERNEL mechanism parameter name: "..." is longer than 15 bytes`.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connection.pb.h"

namespace nsmcert::forwarder {

// The value of parameter `key`, or "" when absent.
std::string Param(const connection::Mechanism& mechanism, std::string_view key);
bool HasParam(const connection::Mechanism& mechanism, std::string_view key);
void SetParam(connection::Mechanism& mechanism, std::string_view key, std::string value);

// "<TYPE> mechanism parameter <key>: <problem>", INVALID_ARGUMENT.
absl::Status ParamError(const connection::Mechanism& mechanism, std::string_view key,
                        std::string_view problem);

// KERNEL `name`: present and a valid Linux interface name (1..15 bytes, no '/', ':' or spaces).
absl::Status CheckInterfaceNameParam(const connection::Mechanism& mechanism);
// KERNEL `inodeURL`: present and of a form a namespace resolver accepts (inode://dev/ino,
// file:///path). Whether the namespace exists is for the resolver to say.
absl::Status CheckNetNsParam(const connection::Mechanism& mechanism);

// An IP address parameter (`src_ip`, `dst_ip`): present and an IPv4 or IPv6 address.
absl::StatusOr<std::string> IpParam(const connection::Mechanism& mechanism, std::string_view key);
// A UDP port parameter (`src_port`, `dst_port`): decimal 1..65535; absent gives `fallback`.
absl::StatusOr<std::uint16_t> PortParam(const connection::Mechanism& mechanism,
                                        std::string_view key, std::uint16_t fallback);
// `MTU`: decimal 68..65535; absent gives 0 (not negotiated).
absl::StatusOr<std::uint32_t> MtuParam(const connection::Mechanism& mechanism);
// VXLAN `vni`: present, decimal 1..2^24-1, and of the parity the upstream rule demands for the
// mechanism's tunnel addresses (even when src <= dst, odd otherwise; orig_* addresses first).
absl::StatusOr<std::uint32_t> VniParam(const connection::Mechanism& mechanism);

}  // namespace nsmcert::forwarder
