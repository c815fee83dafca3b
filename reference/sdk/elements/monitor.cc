#include "reference/sdk/elements/monitor.h"

namespace nsmcert::sdk {

MonitorServer::MonitorServer(std::shared_ptr<ConnectionMonitor> monitor)
    : monitor_(std::move(monitor)) {}

absl::StatusOr<connection::Connection> MonitorServer::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (conn.ok()) {
    // The hop serves the connection now, whatever state the request came with (a reselect arrives
    // as RESELECT_REQUESTED and may reach a hop that has nothing to close, e.g. a restarted NSE).
    connection::Connection stored = *conn;
    stored.set_state(connection::UP);
    monitor_->Update(stored);
  }
  return conn;
}

absl::Status MonitorServer::Close(Context& ctx, connection::Connection& conn,
                                  const NetworkServiceNext& next) {
  absl::Status status = next.Close(ctx, conn);
  monitor_->Delete(conn);
  return status;
}

}  // namespace nsmcert::sdk
