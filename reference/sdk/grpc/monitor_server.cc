#include "reference/sdk/grpc/monitor_server.h"

namespace nsmcert::sdk {
namespace {

// How often a handler waiting for events notices a cancelled call or Stop().
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);

}  // namespace

MonitorConnectionGrpcServer::MonitorConnectionGrpcServer(std::shared_ptr<ConnectionMonitor> monitor)
    : monitor_(std::move(monitor)) {}

grpc::Status MonitorConnectionGrpcServer::MonitorConnections(
    grpc::ServerContext* server, const connection::MonitorScopeSelector* selector,
    grpc::ServerWriter<connection::ConnectionEvent>* writer) {
  if (stopped_) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "monitor server is stopped");
  auto subscription = monitor_->Subscribe(*selector);
  while (!stopped_ && !server->IsCancelled()) {
    auto event = subscription->Next(kPollInterval);
    if (event.has_value()) {
      if (!writer->Write(*event)) break;  // the client went away
      continue;
    }
    if (subscription->ended()) {
      if (subscription->overflowed()) {
        return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                            "monitor subscriber fell too far behind");
      }
      break;
    }
  }
  return grpc::Status::OK;
}

void MonitorConnectionGrpcServer::Stop() { stopped_ = true; }

}  // namespace nsmcert::sdk
