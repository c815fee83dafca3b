// vxlan_server (forwarder, server side): the VXLAN mechanism handler for the incoming side of a
// connection, i.e. a forwarder on another node whose request came through this node's nsmgr
// (spec §4).
//
// Guarantees on Request, before the rest of the chain runs:
// - `src_ip` (the peer's tunnel address) must be an IP address of the same family as this node's
//   tunnel address; `src_port`, `MTU` and `vni`, when present, must be valid. Errors are
//   INVALID_ARGUMENT naming the parameter.
// - `dst_ip` = this node's tunnel address, `dst_port` = this node's VXLAN port.
// - `MTU` = the smaller of the peer's and this node's tunnel MTU (the peer's is absent: this
//   node's); connection.context.MTU is lowered to it when it is 0 or larger.
// - `vni`: a VNI already present (a refresh, or a peer that chose one) is kept if it has the
//   parity the upstream rule demands (INVALID_ARGUMENT "... vni: ... must be even/odd" otherwise);
//   else a random one of the right parity, unique per (src_ip, vni) among this forwarder's
//   connections, is chosen. It is released when the connection closes, or when a first Request
//   for the connection fails.
// Close passes through, then releases the VNI.
//
// Limitation of the kernel data path: a Linux VXLAN device is found by VNI and port alone, so a
// VNI equal to one of another tunnel of this node makes the device creation fail (ALREADY_EXISTS);
// the request fails cleanly and the client's retry draws another VNI.
//
// Chain placement: a handler inside the forwarder's `mechanisms` element.
// Threading: thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::forwarder {

struct VxlanServerOptions {
  std::string tunnel_ip;         // this node's tunnel (underlay) address
  std::uint16_t port = 4789;     // this node's VXLAN UDP port
  std::uint32_t tunnel_mtu = 0;  // underlay MTU minus the VXLAN overhead
  // Random source of the VNI allocator (tests); default: a seeded PRNG.
  std::function<std::uint32_t()> random;
};

class VxlanServer final : public sdk::NetworkServiceElement {
 public:
  explicit VxlanServer(VxlanServerOptions options);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // (src_ip, vni) pairs in use.
  size_t vnis_in_use() const { return vnis_.size(); }

 private:
  VxlanServerOptions options_;
  sdk::tools::VniAllocator vnis_;
  std::mutex mu_;
  // Connection id -> the mechanism whose VNI it holds.
  std::map<std::string, connection::Mechanism> held_;
};

}  // namespace nsmcert::forwarder
