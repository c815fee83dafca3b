// monitor (server side): keeps a ConnectionMonitor in step with the chain (spec 7).
//
// Guarantees: after a successful Request the connection as returned at this point of the chain
// (this hop's id and index, the full downstream path) is stored and published as UPDATE with state
// UP (also when the request came as RESELECT_REQUESTED); a Request
// that fails publishes nothing. A Close publishes DELETE for the connection, whatever the rest of
// the chain answers, so the table never keeps a connection the hop has let go of.
//
// Chain placement: after begin, metadata and timeout (so that a timeout's Close passes here and
// emits DELETE), before the elements that build the connection (so that it sees their result).
#pragma once

#include <memory>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/elements/connection_monitor.h"

namespace nsmcert::sdk {

class MonitorServer final : public NetworkServiceElement {
 public:
  explicit MonitorServer(std::shared_ptr<ConnectionMonitor> monitor);

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  const std::shared_ptr<ConnectionMonitor>& monitor() const { return monitor_; }

 private:
  std::shared_ptr<ConnectionMonitor> monitor_;
};

}  // namespace nsmcert::sdk
