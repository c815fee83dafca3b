#include "reference/sdk/grpc/registry_client.h"

#include <grpcpp/client_context.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reference/sdk/grpc/context_bridge.h"
#include "reference/sdk/grpc/status.h"
#include "registry.grpc.pb.h"

namespace nsmcert::sdk {
namespace {

// Message and stub types of one registry service, for the shared call code below.
template <typename Types>
struct ServiceOf;
template <>
struct ServiceOf<NseRegistryTypes> {
  using Service = registry::NetworkServiceEndpointRegistry;
};
template <>
struct ServiceOf<NsRegistryTypes> {
  using Service = registry::NetworkServiceRegistry;
};

std::string UrlOf(Context& ctx) {
  auto url = ctx.values().Get<ClientUrl>();
  return url ? url->url : "";
}

template <typename Types>
absl::StatusOr<std::unique_ptr<typename ServiceOf<Types>::Service::Stub>> StubFor(ChannelPool& pool,
                                                                                  Context& ctx) {
  std::string url = UrlOf(ctx);
  if (url.empty()) {
    return absl::FailedPreconditionError("registry connect: no client URL chosen for the registry");
  }
  auto channel = pool.Get(url);
  if (!channel.ok()) return channel.status();
  return ServiceOf<Types>::Service::NewStub(*channel);
}

// The call's client context. With a deadline the call waits for the channel to become ready
// instead of failing on the first refused or slow connection attempt, as upstream registry clients
// dial (WaitForReady); without one it fails fast rather than hang.
void Prepare(const Context& ctx, grpc::ClientContext& client) {
  FillClientContext(ctx, client);
  if (ctx.deadline() != absl::InfiniteFuture()) client.set_wait_for_ready(true);
}

absl::Status Annotate(const grpc::Status& s, Context& ctx) {
  absl::Status status = FromGrpcStatus(s);
  return absl::Status(status.code(),
                      absl::StrCat(status.message(), " (registry ", UrlOf(ctx), ")"));
}

template <typename Types>
absl::StatusOr<typename Types::Resource> CallRegister(ChannelPool& pool, Context& ctx,
                                                      typename Types::Resource& resource,
                                                      const RegistryNext<Types>& next) {
  auto stub = StubFor<Types>(pool, ctx);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext client;
  Prepare(ctx, client);
  typename Types::Resource reply;
  grpc::Status status = (*stub)->Register(&client, resource, &reply);
  CollectResponseMetadata(client, ctx);
  if (!status.ok()) return Annotate(status, ctx);
  resource = std::move(reply);
  return next.Register(ctx, resource);
}

template <typename Types>
absl::Status CallUnregister(ChannelPool& pool, Context& ctx, typename Types::Resource& resource,
                            const RegistryNext<Types>& next) {
  auto stub = StubFor<Types>(pool, ctx);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext client;
  Prepare(ctx, client);
  google::protobuf::Empty reply;
  grpc::Status status = (*stub)->Unregister(&client, resource, &reply);
  CollectResponseMetadata(client, ctx);
  if (!status.ok()) return Annotate(status, ctx);
  return next.Unregister(ctx, resource);
}

// Cancels a watch's client call when the chain context is cancelled, through the context's cancel
// callback, so that an open watch holds no thread and wakes nobody while nothing happens.
// A context whose cancellation only its probe can tell (a server-side context: the synchronous
// gRPC ServerContext offers no callback, e.g. a watch proxied for a remote caller) is still
// polled, on a thread of its own, as nothing else would run the probe.
class CancelOnContext {
 public:
  CancelOnContext(Context& ctx, grpc::ClientContext& client) {
    registration_ = ctx.OnCancel([this, &client] {
      fired_ = true;
      client.TryCancel();
    });
    if (ctx.has_cancel_probe()) {
      poller_ = std::thread([this, &ctx] {
        constexpr auto kProbeInterval = std::chrono::milliseconds(20);
        std::unique_lock lock(mu_);
        while (!done_) {
          lock.unlock();
          bool cancelled = ctx.cancelled();  // runs the callback above when the probe fires
          lock.lock();
          if (cancelled) return;
          cv_.wait_for(lock, kProbeInterval, [this] { return done_; });
        }
      });
    }
  }
  ~CancelOnContext() {
    if (poller_.joinable()) {
      {
        std::lock_guard lock(mu_);
        done_ = true;
      }
      cv_.notify_all();
      poller_.join();
    }
    // Waits for a callback running on a cancelling thread: `client` outlives this object.
    registration_ = Context::CancelRegistration();
  }
  // True when the call was cancelled because the context was.
  bool fired() const { return fired_; }

 private:
  std::atomic<bool> fired_ = false;
  Context::CancelRegistration registration_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread poller_;
};

template <typename Types>
absl::Status CallFind(ChannelPool& pool, Context& ctx, const typename Types::Query& query,
                      FindSink<typename Types::Response>& sink, const RegistryNext<Types>& next) {
  auto stub = StubFor<Types>(pool, ctx);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext client;
  Prepare(ctx, client);
  auto reader = (*stub)->Find(&client, query);
  absl::Status sink_status;
  {
    std::unique_ptr<CancelOnContext> canceller;
    if (query.watch()) canceller = std::make_unique<CancelOnContext>(ctx, client);
    typename Types::Response response;
    while (reader->Read(&response)) {
      sink_status = sink.Send(response);
      if (!sink_status.ok()) {
        client.TryCancel();
        break;
      }
    }
    grpc::Status status = reader->Finish();
    CollectResponseMetadata(client, ctx);
    if (!sink_status.ok()) return sink_status;
    bool cancelled_by_us = canceller != nullptr && canceller->fired();
    if (cancelled_by_us) return absl::OkStatus();
    if (!status.ok()) return Annotate(status, ctx);
  }
  return next.Find(ctx, query, sink);
}

}  // namespace

NseRegistryGrpcClient::NseRegistryGrpcClient(std::shared_ptr<ChannelPool> channels)
    : channels_(std::move(channels)) {}

absl::StatusOr<registry::NetworkServiceEndpoint> NseRegistryGrpcClient::Register(
    Context& ctx, registry::NetworkServiceEndpoint& nse, const NseRegistryNext& next) {
  return CallRegister<NseRegistryTypes>(*channels_, ctx, nse, next);
}

absl::Status NseRegistryGrpcClient::Find(Context& ctx,
                                         const registry::NetworkServiceEndpointQuery& query,
                                         NseFindSink& sink, const NseRegistryNext& next) {
  return CallFind<NseRegistryTypes>(*channels_, ctx, query, sink, next);
}

absl::Status NseRegistryGrpcClient::Unregister(Context& ctx, registry::NetworkServiceEndpoint& nse,
                                               const NseRegistryNext& next) {
  return CallUnregister<NseRegistryTypes>(*channels_, ctx, nse, next);
}

NsRegistryGrpcClient::NsRegistryGrpcClient(std::shared_ptr<ChannelPool> channels)
    : channels_(std::move(channels)) {}

absl::StatusOr<registry::NetworkService> NsRegistryGrpcClient::Register(
    Context& ctx, registry::NetworkService& ns, const NsRegistryNext& next) {
  return CallRegister<NsRegistryTypes>(*channels_, ctx, ns, next);
}

absl::Status NsRegistryGrpcClient::Find(Context& ctx, const registry::NetworkServiceQuery& query,
                                        NsFindSink& sink, const NsRegistryNext& next) {
  return CallFind<NsRegistryTypes>(*channels_, ctx, query, sink, next);
}

absl::Status NsRegistryGrpcClient::Unregister(Context& ctx, registry::NetworkService& ns,
                                              const NsRegistryNext& next) {
  return CallUnregister<NsRegistryTypes>(*channels_, ctx, ns, next);
}

}  // namespace nsmcert::sdk
