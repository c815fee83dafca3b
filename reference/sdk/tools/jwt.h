// Per-RPC tokens (spec §2.3, §2.6): compact JWS tokens with the claims NSM uses, `sub` (own SPIFFE
// ID), `aud` (array holding the peer's SPIFFE ID, when known) and `exp` (seconds since the epoch).
//
// - ES256 is what upstream components sign with (their X.509 SVID key): header
//   `{"alg":"ES256","typ":"JWT"}`, signature = raw r||s (64 bytes), base64url without padding.
// - HS256 with a shared secret is what the upstream in-process sandbox uses; it is here for an
//   insecure profile only.
// - Unverified parsing is what the registry (path_ids) and token-chain policies need.
//
// Keys are EC P-256 (OpenSSL 3 EVP). Signers take their identity from a SigningIdentitySource so
// that an SVID source (mTLS, later) can rotate the key without touching callers.
//
// Thread-safety: free functions are thread-safe; EcKey is immutable and may be shared; signers and
// verifiers are thread-safe if their identity source / clock function is.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <openssl/types.h>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace nsmcert::sdk::tools {

inline constexpr std::string_view kJwtAlgEs256 = "ES256";
inline constexpr std::string_view kJwtAlgHs256 = "HS256";

struct JwtClaims {
  std::string subject;                   // "sub"; empty means absent.
  std::vector<std::string> audience;     // "aud"; empty means absent; emitted as a JSON array.
  std::optional<absl::Time> expires_at;  // "exp"; emitted as whole seconds (rounded down).
};

// A token split into its parts, nothing checked but its shape.
struct UnverifiedJwt {
  std::string algorithm;      // header "alg"
  JwtClaims claims;           // payload; other claims are ignored
  std::string signing_input;  // "<header b64>.<payload b64>" exactly as received
  std::string signature;      // decoded signature bytes
};

// Splits and decodes a compact JWS without checking the signature or the expiry. Accepts base64url
// with or without padding; `aud` may be a string or an array of strings; `exp` may be an integer
// or a fraction. Errors are InvalidArgument naming the part at fault.
absl::StatusOr<UnverifiedJwt> ParseJwtUnverified(std::string_view token);

// The `sub` claim of an unverified token as a SPIFFE ID (registry path_ids, spec §8.5).
absl::StatusOr<SpiffeId> JwtSubjectSpiffeId(std::string_view token);

// An EC P-256 key: a key pair, or a public key alone (for verification).
class EcKey {
 public:
  static absl::StatusOr<EcKey> Generate();
  // PKCS#8 ("PRIVATE KEY") or SEC1 ("EC PRIVATE KEY") PEM; encrypted keys are rejected.
  static absl::StatusOr<EcKey> FromPrivateKeyPem(std::string_view pem);
  // SubjectPublicKeyInfo ("PUBLIC KEY") PEM.
  static absl::StatusOr<EcKey> FromPublicKeyPem(std::string_view pem);
  // The public key of the first certificate in `pem` (a TLS peer or SVID leaf).
  static absl::StatusOr<EcKey> FromCertificatePem(std::string_view pem);

  bool has_private_key() const { return has_private_key_; }
  // PKCS#8 PEM; FailedPrecondition for a public-only key.
  absl::StatusOr<std::string> PrivateKeyPem() const;
  absl::StatusOr<std::string> PublicKeyPem() const;
  // The same key without its private part.
  absl::StatusOr<EcKey> PublicKey() const;

  // Borrowed OpenSSL handle, valid while any copy of this key lives.
  EVP_PKEY* native() const { return key_.get(); }

 private:
  EcKey(std::shared_ptr<EVP_PKEY> key, bool has_private_key)
      : key_(std::move(key)), has_private_key_(has_private_key) {}

  std::shared_ptr<EVP_PKEY> key_;
  bool has_private_key_ = false;
};

// Signs `claims` into a compact JWS. ES256 needs a key with its private part; HS256 a non-empty
// secret.
absl::StatusOr<std::string> SignJwtEs256(const JwtClaims& claims, const EcKey& key);
absl::StatusOr<std::string> SignJwtHs256(const JwtClaims& claims, std::string_view secret);

// Checks the header algorithm and the signature only (no expiry, no audience) and returns the
// claims. Errors: InvalidArgument for a malformed token, Unauthenticated for a wrong algorithm or
// a bad signature.
absl::StatusOr<JwtClaims> VerifyJwtEs256Signature(std::string_view token, const EcKey& key);
absl::StatusOr<JwtClaims> VerifyJwtHs256Signature(std::string_view token, std::string_view secret);

// A signed token and the instant it stops being valid, as put into PathSegment.token/expires and
// the `nsm-client-token(-expires)` metadata.
struct Token {
  std::string value;
  absl::Time expires;
};

// Makes the token a hop presents to its peer.
class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  // `audience` is the peer's SPIFFE ID, or empty when no peer identity is known (no `aud` claim).
  virtual absl::StatusOr<Token> Sign(std::string_view audience) = 0;
};

// Checks a token a peer presented.
class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  virtual absl::StatusOr<JwtClaims> Verify(std::string_view token) const = 0;
};

using NowFunction = std::function<absl::Time()>;

// What an ES256 signer signs as: an identity, its key, and the end of their validity (an SVID's
// NotAfter; tokens never outlive it).
struct SigningIdentity {
  SpiffeId id;
  EcKey key;
  absl::Time not_after = absl::InfiniteFuture();
};

// Supplies the current signing identity; an X.509 SVID source implements it to rotate keys.
class SigningIdentitySource {
 public:
  virtual ~SigningIdentitySource() = default;
  virtual absl::StatusOr<SigningIdentity> Current() const = 0;
};

// A fixed identity (tests, a key loaded from a file).
class StaticSigningIdentitySource : public SigningIdentitySource {
 public:
  explicit StaticSigningIdentitySource(SigningIdentity identity) : identity_(std::move(identity)) {}
  absl::StatusOr<SigningIdentity> Current() const override { return identity_; }

 private:
  SigningIdentity identity_;
};

inline constexpr absl::Duration kDefaultMaxTokenLifetime = absl::Minutes(10);

// ES256 tokens with `sub` = the source's SPIFFE ID and `exp` = min(now + max lifetime,
// identity not_after). Sign fails with FailedPrecondition when the identity has expired or has no
// private key.
class Es256TokenSigner : public TokenSigner {
 public:
  Es256TokenSigner(std::shared_ptr<const SigningIdentitySource> source,
                   absl::Duration max_lifetime = kDefaultMaxTokenLifetime, NowFunction now = {});
  Es256TokenSigner(SpiffeId id, EcKey key, absl::Duration max_lifetime = kDefaultMaxTokenLifetime,
                   NowFunction now = {});

  absl::StatusOr<Token> Sign(std::string_view audience) override;

 private:
  std::shared_ptr<const SigningIdentitySource> source_;
  absl::Duration max_lifetime_;
  NowFunction now_;
};

// HS256 tokens for the insecure profile (like the upstream sandbox: `sub` = a SPIFFE ID, shared
// secret). Not for production: anyone holding the secret can mint tokens.
class Hs256TokenSigner : public TokenSigner {
 public:
  Hs256TokenSigner(SpiffeId id, std::string secret,
                   absl::Duration max_lifetime = kDefaultMaxTokenLifetime, NowFunction now = {});

  absl::StatusOr<Token> Sign(std::string_view audience) override;

 private:
  SpiffeId id_;
  std::string secret_;
  absl::Duration max_lifetime_;
  NowFunction now_;
};

struct TokenVerifyOptions {
  // If set, `aud` must contain it.
  std::string expected_audience;
  // Upstream's tokens_expired policy needs `exp` > now; a token without `exp` fails when true.
  bool require_expiry = true;
  NowFunction now;
};

// Verify(): signature and algorithm, then `exp` > now, then the audience. Expired or mis-addressed
// tokens are Unauthenticated with a message saying which check failed.
class Es256TokenVerifier : public TokenVerifier {
 public:
  Es256TokenVerifier(EcKey public_key, TokenVerifyOptions options = {});
  absl::StatusOr<JwtClaims> Verify(std::string_view token) const override;

 private:
  EcKey key_;
  TokenVerifyOptions options_;
};

class Hs256TokenVerifier : public TokenVerifier {
 public:
  Hs256TokenVerifier(std::string secret, TokenVerifyOptions options = {});
  absl::StatusOr<JwtClaims> Verify(std::string_view token) const override;

 private:
  std::string secret_;
  TokenVerifyOptions options_;
};

}  // namespace nsmcert::sdk::tools
