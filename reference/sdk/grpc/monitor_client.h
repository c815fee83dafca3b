// Client of `/connection.MonitorConnection/MonitorConnections`: subscribe with a selector, receive
// events, cancel. Used by elements that follow a downstream hop (DOWN propagation, heal) through
// the ConnectionEventStream interface, and by tests and the conformance suite directly.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <memory>
#include <mutex>
#include <string>

#include "connection.grpc.pb.h"
#include "reference/sdk/elements/connection_event_stream.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {

class MonitorConnectionGrpcStream final : public ConnectionEventStream {
 public:
  // Starts the call; does not wait for the first event. Connection failures show up in Next().
  static std::unique_ptr<MonitorConnectionGrpcStream> Open(
      const std::shared_ptr<grpc::Channel>& channel,
      const connection::MonitorScopeSelector& selector);
  ~MonitorConnectionGrpcStream() override;

  // See ConnectionEventStream. Call from one thread at a time.
  absl::StatusOr<connection::ConnectionEvent> Next() override;
  void Cancel() override;

 private:
  MonitorConnectionGrpcStream() = default;

  std::unique_ptr<connection::MonitorConnection::Stub> stub_;
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<connection::ConnectionEvent>> reader_;
  std::mutex mu_;
  bool cancelled_ = false;  // guarded by mu_
  bool finished_ = false;   // only touched by the reading thread
  absl::Status final_;      // only touched by the reading thread
};

// A ConnectionEventStreamOpener over a channel pool: streams to the hop at `url`.
ConnectionEventStreamOpener GrpcConnectionEventStreamOpener(std::shared_ptr<ChannelPool> channels);

}  // namespace nsmcert::sdk
