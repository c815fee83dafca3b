// The connect element: the tail of a client chain that sends the call over gRPC to the URL in the
// context's ClientUrl, with the context's outgoing metadata and deadline. The next hop's reply is
// the result; `next` (normally the tail) sees the request only after a successful remote call.
#pragma once

#include <memory>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {

class NetworkServiceGrpcClient final : public NetworkServiceElement {
 public:
  explicit NetworkServiceGrpcClient(std::shared_ptr<ChannelPool> channels);

  // FAILED_PRECONDITION when no ClientUrl is set; the remote status otherwise.
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  std::shared_ptr<ChannelPool> channels_;
};

}  // namespace nsmcert::sdk
