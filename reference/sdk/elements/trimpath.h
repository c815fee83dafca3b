// trimpath: a server hop that did not forward the request returns the path only up to its own
// segment, so no stale segments of an earlier, longer path travel back (spec 10).
//
// TrimPathServer guarantees: after a successful Request, path segments after path.index are
// dropped, unless a TrimPathClient inside the same call (the hop forwarded the request through its
// own client chain) reported that the path beyond this hop is live.
// TrimPathClient guarantees: after a successful Request it marks the call as forwarded.
//
// Chain placement: server side after monitor, before the elements that build the connection; client
// side at the end of a hop's client chain, before connect.
#pragma once

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

class TrimPathServer final : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
};

class TrimPathClient final : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
};

}  // namespace nsmcert::sdk
