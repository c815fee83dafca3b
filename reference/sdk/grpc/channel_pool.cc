#include "reference/sdk/grpc/channel_pool.h"

#include <grpcpp/create_channel.h>

#include "absl/strings/str_cat.h"

namespace nsmcert::sdk {

absl::StatusOr<std::string> GrpcTarget(std::string_view url) {
  constexpr std::string_view kUnix = "unix://";
  constexpr std::string_view kTcp = "tcp://";
  if (url.starts_with(kUnix)) {
    std::string_view path = url.substr(kUnix.size());
    if (path.empty() || path.front() != '/') {
      return absl::InvalidArgumentError(
          absl::StrCat("url \"", std::string(url), "\": unix path must be absolute"));
    }
    return absl::StrCat("unix:", std::string(path));
  }
  if (url.starts_with(kTcp)) {
    std::string_view hostport = url.substr(kTcp.size());
    if (hostport.empty() || hostport.find(':') == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("url \"", std::string(url), "\": expected tcp://host:port"));
    }
    return std::string(hostport);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("url \"", std::string(url), "\": scheme must be unix:// or tcp://"));
}

ChannelPool::ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials)
    : credentials_(std::move(credentials)) {}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelPool::Get(std::string_view url) {
  std::lock_guard lock(mu_);
  if (auto it = channels_.find(url); it != channels_.end()) return it->second;
  absl::StatusOr<std::string> target = GrpcTarget(url);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments args;
  // Reconnect quickly after a peer restarts (heal): the default backoff grows to minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  auto channel = grpc::CreateCustomChannel(*target, credentials_, args);
  channels_.emplace(std::string(url), channel);
  return channel;
}

void ChannelPool::Forget(std::string_view url) {
  std::lock_guard lock(mu_);
  if (auto it = channels_.find(url); it != channels_.end()) channels_.erase(it);
}

}  // namespace nsmcert::sdk
