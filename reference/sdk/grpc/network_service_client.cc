#include "reference/sdk/grpc/network_service_client.h"

#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "networkservice.grpc.pb.h"
#include "reference/sdk/grpc/context_bridge.h"
#include "reference/sdk/grpc/status.h"

namespace nsmcert::sdk {
namespace {

absl::StatusOr<std::unique_ptr<networkservice::NetworkService::Stub>> StubFor(ChannelPool& pool,
                                                                              Context& ctx) {
  auto url = ctx.values().Get<ClientUrl>();
  if (url == nullptr || url->url.empty()) {
    return absl::FailedPreconditionError("connect: no client URL chosen for the next hop");
  }
  auto channel = pool.Get(url->url);
  if (!channel.ok()) return channel.status();
  return networkservice::NetworkService::NewStub(*channel);
}

absl::Status Annotate(const absl::Status& s, Context& ctx) {
  auto url = ctx.values().Get<ClientUrl>();
  return absl::Status(s.code(),
                      absl::StrCat(s.message(), " (next hop ", url ? url->url : "?", ")"));
}

}  // namespace

NetworkServiceGrpcClient::NetworkServiceGrpcClient(std::shared_ptr<ChannelPool> channels)
    : channels_(std::move(channels)) {}

absl::StatusOr<connection::Connection> NetworkServiceGrpcClient::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto stub = StubFor(*channels_, ctx);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext client;
  FillClientContext(ctx, client);
  connection::Connection reply;
  grpc::Status status = (*stub)->Request(&client, request, &reply);
  if (!status.ok()) return Annotate(FromGrpcStatus(status), ctx);
  CollectResponseMetadata(client, ctx);
  *request.mutable_connection() = reply;
  return next.Request(ctx, request);
}

absl::Status NetworkServiceGrpcClient::Close(Context& ctx, connection::Connection& conn,
                                             const NetworkServiceNext& next) {
  auto stub = StubFor(*channels_, ctx);
  if (!stub.ok()) return stub.status();
  grpc::ClientContext client;
  FillClientContext(ctx, client);
  google::protobuf::Empty reply;
  grpc::Status status = (*stub)->Close(&client, conn, &reply);
  if (!status.ok()) return Annotate(FromGrpcStatus(status), ctx);
  return next.Close(ctx, conn);
}

}  // namespace nsmcert::sdk
