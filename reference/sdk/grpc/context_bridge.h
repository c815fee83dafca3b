// Moving call context across the gRPC boundary: a server call's metadata, deadline, cancellation
// and peer into a chain Context, and a Context's outgoing metadata and deadline into a client call.
#pragma once

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "reference/sdk/chain/context.h"

namespace nsmcert::sdk {

// Fills `ctx` from an incoming call. The context stays valid only while the call is in progress
// (its cancel probe reads the ServerContext).
void FillFromServerContext(grpc::ServerContext& server, Context& ctx);

// Copies the outgoing metadata and the deadline of `ctx` into a client call.
void FillClientContext(const Context& ctx, grpc::ClientContext& client);

// Copies the response headers of a finished client call into ctx.response_metadata().
void CollectResponseMetadata(const grpc::ClientContext& client, Context& ctx);

// Adds ctx.response_headers() to the server call's initial metadata.
void SendResponseHeaders(const Context& ctx, grpc::ServerContext& server);

}  // namespace nsmcert::sdk
