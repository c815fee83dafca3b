// authorize: the token policies of upstream NSM (spec 2.4), written in C++ instead of OPA/Rego.
//
// Policies (each can be switched on or off):
// - tokens_valid: every token in scope decodes as a JWT.
// - tokens_chained: for every adjacent pair of segments (i, i+1) in scope, some `aud` of token i
//   equals the `sub` of token i+1 (trivially true for fewer than two segments).
// - tokens_expired: every token in scope has an `exp` after the context's Now().
// - peer_token_signed: the token of the peer's segment verifies (ES256) against the public key of
//   the peer's TLS certificate (PeerCertificate in the context's values). Server side: the previous
//   segment (upstream's prev_token_signed); client side: the next segment (next_token_signed).
//   Without a certificate it fails, so profiles without TLS switch it off.
// A failure is PERMISSION_DENIED "no sufficient privileges: <policy>: <what failed>".
//
// AuthorizeServer checks the path's left side (segments 0..index) on Request and Close, only when
// the call came from a peer over a transport (Context::has_peer()); events a hop fires itself
// (timeouts) are not checked. On Close, tokens_expired judges only the peer's token and this hop's
// own: the tokens before them may have expired, since that is what makes an earlier hop close
// (spec 5.3). Refusing such a Close would leave every later hop holding the connection until its
// own, much later, expiry. Upstream refuses it; this is a deliberate difference. AuthorizeClient
// checks the whole returned path after a successful Request and, if a policy fails, closes the
// connection it just got before returning the error.
//
// Chain placement: server side after updatepath and updatetoken (the path must carry the caller's
// fresh token and this hop's own token); client side late in the client chain, before trimpath and
// the connect element.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

struct TokenPolicies {
  bool tokens_valid = true;
  bool tokens_chained = true;
  bool tokens_expired = true;
  bool peer_token_signed = true;

  // All four, as upstream's defaults (with mTLS).
  static TokenPolicies Default() { return {}; }
  // Without TLS: tokens must still be well-formed and unexpired, but nobody knows the peers'
  // identities (no `aud` to chain) or certificates (no signature to check).
  static TokenPolicies Insecure() { return {true, false, true, false}; }
  // No checks at all (upstream's in-process sandbox).
  static TokenPolicies None() { return {false, false, false, false}; }
};

// The TLS certificate (PEM) of the peer on the other end of the call: for a server, the caller;
// for a client chain, the server it called. Put into Context::values() by the transport.
struct PeerCertificate {
  std::string pem;
};

// Runs `policies` on segments [0, end) of `path`; `peer_segment` is the segment whose token the
// peer signed (ignored unless peer_token_signed); tokens_expired skips the segments before
// `expiry_from`. OK, or PERMISSION_DENIED as described above.
absl::Status CheckTokenPolicies(const TokenPolicies& policies, const connection::Path& path,
                                size_t end, size_t peer_segment, absl::Time now,
                                const PeerCertificate* peer_certificate, size_t expiry_from = 0);

class AuthorizeServer final : public NetworkServiceElement {
 public:
  explicit AuthorizeServer(TokenPolicies policies = TokenPolicies::Default());
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  absl::Status Check(Context& ctx, const connection::Connection& conn, bool closing) const;
  TokenPolicies policies_;
};

class AuthorizeClient final : public NetworkServiceElement {
 public:
  explicit AuthorizeClient(TokenPolicies policies = TokenPolicies::Default());
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;

 private:
  TokenPolicies policies_;
};

}  // namespace nsmcert::sdk
