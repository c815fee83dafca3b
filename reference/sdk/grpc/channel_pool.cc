#include "reference/sdk/grpc/channel_pool.h"

#include <grpcpp/create_channel.h>

#include "reference/sdk/tools/url.h"

namespace nsmcert::sdk {

absl::StatusOr<std::string> GrpcTarget(std::string_view url) {
  auto parsed = tools::ParseNsmUrl(url);
  if (!parsed.ok()) return parsed.status();
  return tools::GrpcDialTarget(*parsed);
}

ChannelPool::ChannelPool(std::shared_ptr<grpc::ChannelCredentials> credentials)
    : credentials_(std::move(credentials)) {}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ChannelPool::Get(std::string_view url) {
  std::lock_guard lock(mu_);
  if (auto it = channels_.find(url); it != channels_.end()) return it->second;
  absl::StatusOr<std::string> target = GrpcTarget(url);
  if (!target.ok()) return target.status();
  grpc::ChannelArguments args;
  // Reconnect quickly after a peer restarts (heal): the default backoff grows to minutes. The
  // minimum reconnect backoff is left at its default because gRPC also uses it as the connect
  // timeout, and a short one fails connects on a loaded machine.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto channel = grpc::CreateCustomChannel(*target, credentials_, args);
  channels_.emplace(std::string(url), channel);
  return channel;
}

void ChannelPool::Forget(std::string_view url) {
  std::lock_guard lock(mu_);
  if (auto it = channels_.find(url); it != channels_.end()) channels_.erase(it);
}

}  // namespace nsmcert::sdk
