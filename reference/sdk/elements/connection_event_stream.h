// A stream of ConnectionEvents from another hop's MonitorConnections, as the elements that follow a
// downstream hop see it. The gRPC client (reference/sdk/grpc/monitor_client.h) implements it; tests
// use in-memory streams.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "connection.pb.h"

namespace nsmcert::sdk {

class ConnectionEventStream {
 public:
  virtual ~ConnectionEventStream() = default;
  // Blocks until the next event. Once the stream has ended every call returns the same error:
  // CANCELLED after Cancel(), otherwise why it ended (a peer that ends a stream on its own, which
  // a MonitorConnections server never does while serving, gives UNAVAILABLE).
  virtual absl::StatusOr<connection::ConnectionEvent> Next() = 0;
  // Ends the stream; a Next() blocked in another thread returns. Thread-safe, idempotent.
  virtual void Cancel() = 0;
};

// Opens a stream to the MonitorConnections server at `url` with `selector`.
using ConnectionEventStreamOpener =
    std::function<absl::StatusOr<std::unique_ptr<ConnectionEventStream>>(
        const std::string& url, const connection::MonitorScopeSelector& selector)>;

}  // namespace nsmcert::sdk
