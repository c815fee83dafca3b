#include "reference/sdk/elements/clienturl.h"

#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {

ClientUrlElement::ClientUrlElement(std::string url) : url_(std::move(url)) {}

absl::StatusOr<connection::Connection> ClientUrlElement::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  ctx.values().Set(std::make_shared<ClientUrl>(ClientUrl{url_}));
  return next.Request(ctx, request);
}

absl::Status ClientUrlElement::Close(Context& ctx, connection::Connection& conn,
                                     const NetworkServiceNext& next) {
  ctx.values().Set(std::make_shared<ClientUrl>(ClientUrl{url_}));
  return next.Close(ctx, conn);
}

}  // namespace nsmcert::sdk
