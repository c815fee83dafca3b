// The registry connect elements: the tail of a registry client chain that sends Register, Find
// and Unregister over gRPC to the URL in the context's ClientUrl.
//
// Each call carries the context's outgoing metadata (e.g. the registry `path` JSON an earlier
// element put there) and its deadline (with a deadline, the call waits for the channel to become
// ready, as upstream registry clients do; without one it fails fast); the server's response headers
// land in ctx.response_metadata() once the call finished, for an earlier element to read back.
// `next` (normally the tail) runs only after a successful remote call: Register passes it the
// server's reply as the resource.
//
// Find streams every response the server sends into the caller's sink. A non-watch Find returns
// when the server ends the stream. A watch Find runs until the server ends it, the sink refuses a
// response (the call is cancelled and the sink's error returned), or the context is cancelled
// (the call is cancelled and OK returned, as a store ends a watch its caller cancelled).
//
// Errors: FAILED_PRECONDITION when no ClientUrl is set, INVALID_ARGUMENT for a malformed URL,
// otherwise the remote status with the URL appended to its message.
// Threading: thread-safe; calls may run concurrently. A watch Find learns of the context's
// cancellation through its cancel callback (Context::OnCancel); only a context with a cancel
// probe (a server-side one) is polled for it, every 20 ms on a thread of the call's own.
#pragma once

#include <memory>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {

class NseRegistryGrpcClient final : public NseRegistryElement {
 public:
  explicit NseRegistryGrpcClient(std::shared_ptr<ChannelPool> channels);

  absl::StatusOr<registry::NetworkServiceEndpoint> Register(Context& ctx,
                                                            registry::NetworkServiceEndpoint& nse,
                                                            const NseRegistryNext& next) override;
  absl::Status Find(Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    NseFindSink& sink, const NseRegistryNext& next) override;
  absl::Status Unregister(Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const NseRegistryNext& next) override;

 private:
  std::shared_ptr<ChannelPool> channels_;
};

class NsRegistryGrpcClient final : public NsRegistryElement {
 public:
  explicit NsRegistryGrpcClient(std::shared_ptr<ChannelPool> channels);

  absl::StatusOr<registry::NetworkService> Register(Context& ctx, registry::NetworkService& ns,
                                                    const NsRegistryNext& next) override;
  absl::Status Find(Context& ctx, const registry::NetworkServiceQuery& query, NsFindSink& sink,
                    const NsRegistryNext& next) override;
  absl::Status Unregister(Context& ctx, registry::NetworkService& ns,
                          const NsRegistryNext& next) override;

 private:
  std::shared_ptr<ChannelPool> channels_;
};

}  // namespace nsmcert::sdk
