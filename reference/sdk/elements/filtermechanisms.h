// filtermechanisms (client side): keeps only the mechanism preferences the next hop can use
// (spec 4, 9.5): LOCAL ones toward a unix:// or inode:// next hop (same node), REMOTE ones toward
// anything else (tcp://, another node). Without a ClientUrl in the context the preferences are left
// alone.
//
// Chain placement: a forwarder's client chain, after the elements that add preferences and the one
// that sets the next hop's URL, before connect.
#pragma once

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

class FilterMechanisms final : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
};

}  // namespace nsmcert::sdk
