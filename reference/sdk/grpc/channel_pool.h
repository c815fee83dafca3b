// Client channels by NSM URL. Every outgoing connection of a daemon (to the next hop, to the
// registry) goes through one ChannelPool, which is also where transport credentials are chosen
// (plain gRPC today; mTLS with SPIFFE identities plugs in here).
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsmcert::sdk {

// The URL the next hop of a call is reached at; put into Context::values() by the element that
// decides it (clienturl, discover, ...) and read by the connect element.
struct ClientUrl {
  std::string url;
};

// Turns an NSM URL into a gRPC target: `unix:///abs/path` → `unix:/abs/path`, `tcp://host:port` →
// `host:port` (tools::ParseNsmUrl + tools::GrpcDialTarget). A malformed URL is INVALID_ARGUMENT
// naming it; an inode URL or a tcp URL without host is FAILED_PRECONDITION.
absl::StatusOr<std::string> GrpcTarget(std::string_view url);

// Thread-safe.
class ChannelPool {
 public:
  explicit ChannelPool(
      std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

  // The channel for `url`, created on first use and shared afterwards.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Get(std::string_view url);
  // Drops the cached channel (after the peer restarted on a new socket, say).
  void Forget(std::string_view url);

 private:
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<grpc::Channel>, std::less<>> channels_;
};

}  // namespace nsmcert::sdk
