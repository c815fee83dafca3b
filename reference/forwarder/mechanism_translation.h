// mechanism_translation (forwarder, client side): keeps the two sides of a forwarder's connection
// apart. The incoming side's mechanism (chosen by this forwarder's server side) is not the one the
// next hop should see, and the next hop's mechanism is not the one the caller should see.
//
// Guarantees:
// - Request: the request sent on has no mechanism preferences (the preference builders after this
//   element add this forwarder's own) and, as its connection.mechanism, the mechanism the next hop
//   chose on the last successful Request for this connection (a refresh), or none.
// - After a successful Request the next hop's mechanism is kept as ClientMechanism in the client
//   side connection metadata, where the dataplane element reads it; the connection returned to the
//   caller carries the incoming mechanism again.
// - Close: the connection sent on carries the kept next-hop mechanism (dropped afterwards).
// Without connection metadata (no `metadata` element before) the Request fails
// (FAILED_PRECONDITION).
//
// Chain placement: first in the forwarder's client chain (the `connect` element of its server
// chain), before the preference builders and filtermechanisms.
#pragma once

#include "connection.pb.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::forwarder {

// The next hop's mechanism of a connection, in the client-side connection metadata.
struct ClientMechanism {
  connection::Mechanism mechanism;
};

class MechanismTranslation final : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;
};

}  // namespace nsmcert::forwarder
