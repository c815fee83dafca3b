// gRPC adapter: serves a ConnectionMonitor as `/connection.MonitorConnection/MonitorConnections`
// (server streaming, spec 7). Each stream first carries the INITIAL_STATE_TRANSFER, then the
// UPDATE/DELETE events that match its selector. A stream ends only when the client cancels it, the
// monitor shuts down, or Stop() is called (an overflowing subscriber is ended with
// RESOURCE_EXHAUSTED).
//
// Threading: one handler thread per open stream (the synchronous gRPC API). Call Stop() before
// grpc::Server::Shutdown(), which waits for open streams to end.
#pragma once

#include <atomic>
#include <memory>

#include "connection.grpc.pb.h"
#include "reference/sdk/elements/connection_monitor.h"

namespace nsmcert::sdk {

class MonitorConnectionGrpcServer final : public connection::MonitorConnection::Service {
 public:
  explicit MonitorConnectionGrpcServer(std::shared_ptr<ConnectionMonitor> monitor);

  grpc::Status MonitorConnections(grpc::ServerContext* server,
                                  const connection::MonitorScopeSelector* selector,
                                  grpc::ServerWriter<connection::ConnectionEvent>* writer) override;

  // Ends every open stream (status OK) and refuses new ones (UNAVAILABLE).
  void Stop();

 private:
  std::shared_ptr<ConnectionMonitor> monitor_;
  std::atomic<bool> stopped_{false};
};

}  // namespace nsmcert::sdk
