#include "reference/sdk/grpc/context_bridge.h"

#include <chrono>
#include <string>

#include "absl/time/clock.h"

namespace nsmcert::sdk {
namespace {

std::string ToString(const grpc::string_ref& s) { return std::string(s.data(), s.size()); }

}  // namespace

void FillFromServerContext(grpc::ServerContext& server, Context& ctx) {
  for (const auto& [key, value] : server.client_metadata()) {
    ctx.mutable_incoming_metadata().emplace(ToString(key), ToString(value));
  }
  auto deadline = server.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    // Translate the remaining time onto the context's clock, which may be a fake one in tests.
    absl::Duration left = absl::FromChrono(deadline - std::chrono::system_clock::now());
    ctx.set_deadline(ctx.Now() + left);
  }
  ctx.set_has_peer(true);
  ctx.set_cancel_probe([&server] { return server.IsCancelled(); });
}

void FillClientContext(const Context& ctx, grpc::ClientContext& client) {
  for (const auto& [key, value] : ctx.outgoing_metadata()) client.AddMetadata(key, value);
  if (ctx.deadline() != absl::InfiniteFuture()) {
    client.set_deadline(std::chrono::system_clock::now() +
                        absl::ToChronoNanoseconds(ctx.Remaining()));
  }
}

void CollectResponseMetadata(const grpc::ClientContext& client, Context& ctx) {
  ctx.response_metadata().clear();
  for (const auto& [key, value] : client.GetServerInitialMetadata()) {
    ctx.response_metadata().emplace(ToString(key), ToString(value));
  }
}

void SendResponseHeaders(const Context& ctx, grpc::ServerContext& server) {
  for (const auto& [key, value] : const_cast<Context&>(ctx).response_headers()) {
    server.AddInitialMetadata(key, value);
  }
}

}  // namespace nsmcert::sdk
