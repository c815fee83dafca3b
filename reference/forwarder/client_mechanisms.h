// client_mechanisms (forwarder, client side): the mechanism preferences this forwarder offers the
// next hop (spec §4, "Forwarder client side"), before filtermechanisms keeps those of the right
// class for the next hop's URL.
//
// Guarantees on Request:
// - Appends {LOCAL, KERNEL} with no parameters: a local endpoint fills in its namespace and
//   interface name.
// - For payload ETHERNET only, appends {REMOTE, VXLAN, src_ip = this node's tunnel address,
//   src_port = its VXLAN port, MTU = its tunnel MTU}.
// - A connection.mechanism of type VXLAN (a refresh) gets the same src_ip/src_port, and its MTU is
//   lowered to this node's tunnel MTU when larger.
// - When the next hop is remote (ClientUrl is not unix:// or inode://) and the payload is not
//   ETHERNET, the Request fails with FAILED_PRECONDITION: the kernel data path has no remote
//   mechanism for IP payloads (upstream uses WireGuard or IPsec, which this kernel lacks).
// Close passes through.
//
// Chain placement: the forwarder's client chain, after mechanism_translation, before
// filtermechanisms.
// Threading: thread-safe (immutable after construction).
#pragma once

#include <cstdint>
#include <string>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::forwarder {

struct ClientMechanismsOptions {
  std::string tunnel_ip;
  std::uint16_t port = 4789;
  std::uint32_t tunnel_mtu = 0;
};

class ClientMechanisms final : public sdk::NetworkServiceElement {
 public:
  explicit ClientMechanisms(ClientMechanismsOptions options);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;

 private:
  void FillVxlan(connection::Mechanism& mechanism) const;
  ClientMechanismsOptions options_;
};

}  // namespace nsmcert::forwarder
