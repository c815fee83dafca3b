// updatetoken: the per-hop tokens of the path (spec 2.3, 5.2), on Request and Close.
//
// UpdateTokenServer guarantees: the caller's segment (path.index - 1) gets the token the caller
// presented in the gRPC metadata `nsm-client-token` / `nsm-client-token-expires` (if it presented
// exactly one valid pair; otherwise the segment keeps what it had, as upstream does, and the
// authorize policies judge it); then this hop's own segment (path.index) gets a fresh token from
// the signer, addressed to the caller's identity when the transport knows it
// (Context::peer_identity()). Signing errors fail the call.
//
// UpdateTokenClient guarantees: the call leaves with this hop's token for the next hop in the
// outgoing metadata (replacing any earlier one), addressed to NextHopIdentity when known.
//
// Chain placement: server side right after begin, before authorize; client side in the client
// chain before the connect element.
#pragma once

#include <memory>
#include <string>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk {

// The SPIFFE ID of the hop the next outgoing call goes to, when known (from its TLS certificate or
// configuration). Put into Context::values() by whoever knows it.
struct NextHopIdentity {
  std::string spiffe_id;
};

class UpdateTokenServer final : public NetworkServiceElement {
 public:
  explicit UpdateTokenServer(std::shared_ptr<tools::TokenSigner> signer);
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  absl::Status Update(Context& ctx, connection::Connection& conn);
  std::shared_ptr<tools::TokenSigner> signer_;
};

class UpdateTokenClient final : public NetworkServiceElement {
 public:
  explicit UpdateTokenClient(std::shared_ptr<tools::TokenSigner> signer);
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  absl::Status Attach(Context& ctx);
  std::shared_ptr<tools::TokenSigner> signer_;
};

}  // namespace nsmcert::sdk
