// The gRPC server of a daemon: listening on every URL of NSM_LISTEN_ON (unix sockets and tcp, port
// 0 allowed), health service, the public URL (spec §2.1), reporting where it listens, shutdown.
//
// Listen report: when the environment has NSMCERT_LISTEN_REPORT=<file>, the bound URLs (one per
// line, tcp ports resolved) are written to that file once serving, atomically, so a supervisor or a
// test can learn a port picked by the kernel. They are also printed as `listening on <url>` lines.
#pragma once

#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsmcert::sdk::daemon {

class GrpcDaemon {
 public:
  // INVALID_ARGUMENT naming the URL when one is malformed or not unix/tcp; an empty list is too.
  static absl::StatusOr<std::unique_ptr<GrpcDaemon>> Create(std::vector<std::string> listen_urls);
  ~GrpcDaemon();

  // Register services on this builder before Start().
  grpc::ServerBuilder& builder() { return builder_; }

  // Removes stale unix socket files (and creates their directories), binds, starts, enables the
  // health service and writes the listen report. UNAVAILABLE naming the URL if a bind fails,
  // INTERNAL if the listen report cannot be written.
  absl::Status Start();

  // Listen URLs with tcp ports resolved, in NSM_LISTEN_ON order.
  const std::vector<std::string>& bound_urls() const { return bound_urls_; }
  // The URL others reach this daemon at (spec §2.1): the first tcp URL, its empty or wildcard host
  // replaced by the first non-loopback interface address (IPv4 preferred); else the first URL.
  std::string PublicUrl() const;

  // Health status of the given fully-qualified services (e.g. "registry.NetworkServiceRegistry")
  // and of the overall server ("").
  void SetServing(const std::vector<std::string_view>& services, bool serving);

  grpc::Server* server() { return server_.get(); }

  // Stops serving (in-flight calls get `grace`) and removes the unix socket files.
  void Shutdown(absl::Duration grace = absl::Seconds(1));

 private:
  explicit GrpcDaemon(std::vector<std::string> urls) : urls_(std::move(urls)) {}

  std::vector<std::string> urls_;
  std::vector<int> ports_;  // selected tcp ports, parallel to urls_ (0 for unix)
  std::vector<std::string> bound_urls_;
  std::vector<std::string> socket_files_;
  grpc::ServerBuilder builder_;
  std::unique_ptr<grpc::Server> server_;
};

// First non-loopback address of this network namespace (IPv4 preferred, else global IPv6), "" if
// none. Exposed for tests.
std::string FirstNonLoopbackAddress();

}  // namespace nsmcert::sdk::daemon
