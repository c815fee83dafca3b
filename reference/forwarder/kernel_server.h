// kernel_server (forwarder, server side): the KERNEL mechanism handler for the incoming side of a
// connection, i.e. a client (NSC, or a passthrough NSE acting as one) on this node (spec §4).
//
// Guarantees on Request, before the rest of the chain runs (so a bad request reaches no
// endpoint):
// - `inodeURL` must be present, of the form inode://<dev>/<ino> (or file://), and name a namespace
//   the resolver finds: INVALID_ARGUMENT "KERNEL mechanism parameter inodeURL: ..." or NOT_FOUND
//   naming the URL.
// - `name` is the interface to create in that namespace: when absent one is generated from the
//   network service name (as upstream's kernel client does) and written into the mechanism;
//   otherwise it must be a valid Linux interface name (1..15 bytes), else INVALID_ARGUMENT naming
//   `name`.
// Close passes through. The interface itself is made by the dataplane element after the rest of
// the chain returned.
//
// Chain placement: a handler inside the forwarder's `mechanisms` element.
// Threading: thread-safe if the resolver is.
#pragma once

#include "reference/kernel/netns.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::forwarder {

class KernelServer final : public sdk::NetworkServiceElement {
 public:
  // `resolver` is not owned and must outlive this element.
  explicit KernelServer(kernel::NetNsResolver* resolver);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;

 private:
  kernel::NetNsResolver* resolver_;
};

}  // namespace nsmcert::forwarder
