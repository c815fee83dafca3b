#include "reference/sdk/grpc/registry_server.h"

#include "reference/sdk/grpc/context_bridge.h"
#include "reference/sdk/grpc/status.h"

namespace nsmcert::sdk {
namespace {

// The NSE and NS services differ only in their message types, so both are served by these.

template <typename Types>
grpc::Status ServeRegister(RegistryElement<Types>& chain, Clock& clock, grpc::ServerContext& server,
                           const typename Types::Resource& in, typename Types::Resource& out) {
  Context ctx(clock);
  FillFromServerContext(server, ctx);
  typename Types::Resource resource = in;
  auto result = chain.Register(ctx, resource, RegistryNext<Types>());
  SendResponseHeaders(ctx, server);
  if (!result.ok()) return ToGrpcStatus(result.status());
  out = *std::move(result);
  return grpc::Status::OK;
}

template <typename Types>
grpc::Status ServeUnregister(RegistryElement<Types>& chain, Clock& clock,
                             grpc::ServerContext& server, const typename Types::Resource& in) {
  Context ctx(clock);
  FillFromServerContext(server, ctx);
  typename Types::Resource resource = in;
  absl::Status status = chain.Unregister(ctx, resource, RegistryNext<Types>());
  SendResponseHeaders(ctx, server);
  return ToGrpcStatus(status);
}

template <typename Types>
grpc::Status ServeFind(RegistryElement<Types>& chain, Clock& clock, grpc::ServerContext& server,
                       const typename Types::Query& query,
                       grpc::ServerWriter<typename Types::Response>& writer) {
  using Response = typename Types::Response;
  Context ctx(clock);
  FillFromServerContext(server, ctx);
  bool headers_sent = false;
  FunctionSink<Response> sink([&](const Response& response) -> absl::Status {
    if (!headers_sent) {
      // Initial metadata leaves with the first message; it cannot be added afterwards.
      SendResponseHeaders(ctx, server);
      headers_sent = true;
    }
    if (!writer.Write(response)) {
      return absl::CancelledError("find: the stream to the client is closed");
    }
    return absl::OkStatus();
  });
  absl::Status status = chain.Find(ctx, query, sink, RegistryNext<Types>());
  if (!headers_sent) SendResponseHeaders(ctx, server);
  return ToGrpcStatus(status);
}

}  // namespace

NseRegistryGrpcServer::NseRegistryGrpcServer(std::shared_ptr<NseRegistryElement> chain,
                                             Clock& clock)
    : chain_(std::move(chain)), clock_(clock) {}

grpc::Status NseRegistryGrpcServer::Register(grpc::ServerContext* server,
                                             const registry::NetworkServiceEndpoint* in,
                                             registry::NetworkServiceEndpoint* out) {
  return ServeRegister<NseRegistryTypes>(*chain_, clock_, *server, *in, *out);
}

grpc::Status NseRegistryGrpcServer::Find(
    grpc::ServerContext* server, const registry::NetworkServiceEndpointQuery* query,
    grpc::ServerWriter<registry::NetworkServiceEndpointResponse>* writer) {
  return ServeFind<NseRegistryTypes>(*chain_, clock_, *server, *query, *writer);
}

grpc::Status NseRegistryGrpcServer::Unregister(grpc::ServerContext* server,
                                               const registry::NetworkServiceEndpoint* in,
                                               google::protobuf::Empty* /*out*/) {
  return ServeUnregister<NseRegistryTypes>(*chain_, clock_, *server, *in);
}

NsRegistryGrpcServer::NsRegistryGrpcServer(std::shared_ptr<NsRegistryElement> chain, Clock& clock)
    : chain_(std::move(chain)), clock_(clock) {}

grpc::Status NsRegistryGrpcServer::Register(grpc::ServerContext* server,
                                            const registry::NetworkService* in,
                                            registry::NetworkService* out) {
  return ServeRegister<NsRegistryTypes>(*chain_, clock_, *server, *in, *out);
}

grpc::Status NsRegistryGrpcServer::Find(
    grpc::ServerContext* server, const registry::NetworkServiceQuery* query,
    grpc::ServerWriter<registry::NetworkServiceResponse>* writer) {
  return ServeFind<NsRegistryTypes>(*chain_, clock_, *server, *query, *writer);
}

grpc::Status NsRegistryGrpcServer::Unregister(grpc::ServerContext* server,
                                              const registry::NetworkService* in,
                                              google::protobuf::Empty* /*out*/) {
  return ServeUnregister<NsRegistryTypes>(*chain_, clock_, *server, *in);
}

}  // namespace nsmcert::sdk
