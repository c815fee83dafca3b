#include "reference/sdk/grpc/network_service_server.h"

#include "reference/sdk/grpc/context_bridge.h"
#include "reference/sdk/grpc/status.h"

namespace nsmcert::sdk {

NetworkServiceGrpcServer::NetworkServiceGrpcServer(std::shared_ptr<NetworkServiceElement> chain,
                                                   Clock& clock)
    : chain_(std::move(chain)), clock_(clock) {}

grpc::Status NetworkServiceGrpcServer::Request(grpc::ServerContext* server,
                                               const networkservice::NetworkServiceRequest* in,
                                               connection::Connection* out) {
  Context ctx(clock_);
  FillFromServerContext(*server, ctx);
  networkservice::NetworkServiceRequest request = *in;
  absl::StatusOr<connection::Connection> result =
      chain_->Request(ctx, request, NetworkServiceNext());
  SendResponseHeaders(ctx, *server);
  if (!result.ok()) return ToGrpcStatus(result.status());
  *out = *std::move(result);
  return grpc::Status::OK;
}

grpc::Status NetworkServiceGrpcServer::Close(grpc::ServerContext* server,
                                             const connection::Connection* in,
                                             google::protobuf::Empty* /*out*/) {
  Context ctx(clock_);
  FillFromServerContext(*server, ctx);
  connection::Connection conn = *in;
  absl::Status status = chain_->Close(ctx, conn, NetworkServiceNext());
  SendResponseHeaders(ctx, *server);
  return ToGrpcStatus(status);
}

}  // namespace nsmcert::sdk
