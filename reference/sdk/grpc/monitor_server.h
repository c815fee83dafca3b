// gRPC adapter: serves a ConnectionMonitor as `/connection.MonitorConnection/MonitorConnections`
// (server streaming, spec 7). Each stream first carries the INITIAL_STATE_TRANSFER, then the
// UPDATE/DELETE events that match its selector. A stream ends only when the client cancels it, the
// monitor shuts down (status OK), or Stop() is called (status OK); an overflowing subscriber is
// ended with RESOURCE_EXHAUSTED. After Stop() new streams are refused with UNAVAILABLE.
//
// Threading: gRPC's callback API. An open stream holds no thread and does not poll: the monitor's
// subscription pushes each event to the stream's reactor (MonitorSubscription::SetNotify), which
// keeps one write in flight and leaves the rest queued in the subscription; a cancelled call
// unsubscribes at once. The service can be registered on a server next to synchronous services.
// Call Stop() before grpc::Server::Shutdown(), which waits for open streams to end. Stop() and the
// destructor are thread-safe; a stream may outlive this object until the server shut down.
#pragma once

#include <memory>

#include "connection.grpc.pb.h"
#include "reference/sdk/elements/connection_monitor.h"

namespace nsmcert::sdk {

class MonitorConnectionGrpcServer final : public connection::MonitorConnection::CallbackService {
 public:
  explicit MonitorConnectionGrpcServer(std::shared_ptr<ConnectionMonitor> monitor);
  ~MonitorConnectionGrpcServer() override;

  grpc::ServerWriteReactor<connection::ConnectionEvent>* MonitorConnections(
      grpc::CallbackServerContext* context,
      const connection::MonitorScopeSelector* selector) override;

  // Ends every open stream (status OK, after the write in flight) and refuses new ones
  // (UNAVAILABLE).
  void Stop();

 private:
  struct State;
  class Stream;

  std::shared_ptr<ConnectionMonitor> monitor_;
  std::shared_ptr<State> state_;
};

}  // namespace nsmcert::sdk
