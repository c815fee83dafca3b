#include "reference/sdk/elements/monitor.h"

namespace nsmcert::sdk {

MonitorServer::MonitorServer(std::shared_ptr<ConnectionMonitor> monitor)
    : monitor_(std::move(monitor)) {}

absl::StatusOr<connection::Connection> MonitorServer::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (conn.ok()) monitor_->Update(*conn);
  return conn;
}

absl::Status MonitorServer::Close(Context& ctx, connection::Connection& conn,
                                  const NetworkServiceNext& next) {
  absl::Status status = next.Close(ctx, conn);
  monitor_->Delete(conn);
  return status;
}

}  // namespace nsmcert::sdk
