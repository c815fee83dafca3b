// clienturl (client side): fixes the URL of the next hop for the connect element (spec 10: the NSC
// and the nsmgr's forwarder-facing client dial a URL known up front).
//
// Guarantees: Request and Close continue with ClientUrl{url} in the context's values, so the
// connect element (reference/sdk/grpc/network_service_client.h) dials `url`.
//
// Chain placement: in a client chain, before the elements that look at the next hop's URL
// (filtermechanisms) and before connect.
#pragma once

#include <string>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

class ClientUrlElement final : public NetworkServiceElement {
 public:
  explicit ClientUrlElement(std::string url);
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  std::string url_;
};

}  // namespace nsmcert::sdk
