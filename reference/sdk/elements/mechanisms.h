// mechanisms (server side): picks the mechanism of a connection by type (spec 4, "Server side
// selection") and hands the call to the element that handles that type.
//
// Guarantees:
// - A Request whose connection already has a mechanism (a refresh) goes to the handler of that
//   type; with no handler for it the Request fails with INVALID_ARGUMENT "unsupported mechanism".
// - Otherwise the mechanism preferences are tried in order: for each one with a handler, the
//   preference is copied into connection.mechanism and the handler runs; the first that succeeds
//   wins. If none does, an error naming the preferences and the handlers' errors, with the status
//   code of the last handler that failed (INVALID_ARGUMENT when no preference had a handler).
// - A Close goes to the handler of the connection's mechanism type; with none it still reaches
//   the rest of the chain and then reports "unsupported mechanism".
// Handlers are ordinary elements (or chains) that continue with `next`; a handler that fails after
// `next` succeeded must undo it, as every element does, before the next preference is tried.
//
// Chain placement: near the end of an endpoint's or forwarder's server chain, after the elements
// that decide where the connection goes and before the ones that depend on the mechanism.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

class Mechanisms final : public NetworkServiceElement {
 public:
  // Keys are mechanism types (api/constants.h `mechanism::k*`); null handlers are dropped.
  explicit Mechanisms(std::map<std::string, std::shared_ptr<NetworkServiceElement>> handlers);

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  std::map<std::string, std::shared_ptr<NetworkServiceElement>> handlers_;
};

}  // namespace nsmcert::sdk
