#include "reference/sdk/tools/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <exception>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

using Json = nlohmann::json;
// Keeps claims in the order upstream writes them (sub, aud, exp) so tokens read the same.
using OrderedJson = nlohmann::ordered_json;

constexpr size_t kMaxTokenSize = 64 * 1024;
constexpr size_t kEs256CoordinateSize = 32;

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct X509Deleter {
  void operator()(X509* x) const { X509_free(x); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigDeleter>;
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

std::shared_ptr<EVP_PKEY> WrapKey(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// The most recent OpenSSL error as text, clearing the queue.
std::string OpenSslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int): OpenSSL's type
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  std::array<char, 256> buffer{};
  ERR_error_string_n(code, buffer.data(), buffer.size());
  return buffer.data();
}

// Passphrase callback that refuses: an encrypted PEM fails instead of prompting on a terminal.
int NoPassphrase(char*, int, int, void*) { return 0; }

BioPtr MemoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

absl::StatusOr<std::string> BioContents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int): OpenSSL's type
  if (size < 0 || data == nullptr) return absl::InternalError("empty PEM output");
  return std::string(data, static_cast<size_t>(size));
}

// Only P-256 keys make ES256 signatures.
absl::Status CheckP256(EVP_PKEY* key) {
  if (EVP_PKEY_base_id(key) != EVP_PKEY_EC) {
    return absl::InvalidArgumentError("key is not an EC key (ES256 needs EC P-256)");
  }
  std::array<char, 64> group{};
  size_t length = 0;
  if (EVP_PKEY_get_group_name(key, group.data(), group.size(), &length) != 1) {
    return absl::InvalidArgumentError("cannot read the EC curve of the key: " + OpenSslError());
  }
  const std::string_view name(group.data(), length);
  if (name != "prime256v1" && name != "P-256" && name != "secp256r1") {
    return absl::InvalidArgumentError(
        internal::Cat("EC key is on curve ", name, ", ES256 needs P-256"));
  }
  return absl::OkStatus();
}

std::string Base64Url(std::string_view data) {
  return absl::WebSafeBase64Escape(internal::ToAbsl(data));
}

absl::StatusOr<std::string> DecodeBase64Url(std::string_view data, std::string_view part) {
  std::string out;
  // absl accepts the web-safe alphabet with or without '=' padding.
  if (!absl::WebSafeBase64Unescape(internal::ToAbsl(data), &out)) {
    return absl::InvalidArgumentError(internal::Cat("JWT ", part, " is not valid base64url"));
  }
  return out;
}

OrderedJson ClaimsToJson(const JwtClaims& claims) {
  OrderedJson json = OrderedJson::object();
  if (!claims.subject.empty()) json["sub"] = claims.subject;
  if (!claims.audience.empty()) json["aud"] = claims.audience;
  if (claims.expires_at.has_value()) json["exp"] = absl::ToUnixSeconds(*claims.expires_at);
  return json;
}

std::string SigningInput(std::string_view algorithm, const JwtClaims& claims) {
  OrderedJson header = OrderedJson::object();
  header["alg"] = algorithm;
  header["typ"] = "JWT";
  // Invalid UTF-8 in a claim is replaced rather than thrown on.
  const auto dump = [](const OrderedJson& json) {
    return json.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
  };
  return internal::Cat(Base64Url(dump(header)), ".", Base64Url(dump(ClaimsToJson(claims))));
}

absl::StatusOr<JwtClaims> ClaimsFromJson(const Json& payload) {
  if (!payload.is_object()) return absl::InvalidArgumentError("JWT payload is not a JSON object");
  JwtClaims claims;
  if (auto it = payload.find("sub"); it != payload.end()) {
    if (!it->is_string()) return absl::InvalidArgumentError("JWT claim \"sub\" is not a string");
    claims.subject = it->get<std::string>();
  }
  if (auto it = payload.find("aud"); it != payload.end()) {
    if (it->is_string()) {
      claims.audience.push_back(it->get<std::string>());
    } else if (it->is_array()) {
      for (const Json& entry : *it) {
        if (!entry.is_string()) {
          return absl::InvalidArgumentError("JWT claim \"aud\" holds a non-string entry");
        }
        claims.audience.push_back(entry.get<std::string>());
      }
    } else if (!it->is_null()) {
      return absl::InvalidArgumentError("JWT claim \"aud\" is neither a string nor an array");
    }
  }
  if (auto it = payload.find("exp"); it != payload.end() && !it->is_null()) {
    // nlohmann counts unsigned numbers as integers too, so test for unsigned first.
    if (it->is_number_unsigned()) {
      const uint64_t seconds = it->get<uint64_t>();
      if (seconds > static_cast<uint64_t>(INT64_MAX)) {
        return absl::InvalidArgumentError("JWT claim \"exp\" is out of range");
      }
      claims.expires_at = absl::FromUnixSeconds(static_cast<int64_t>(seconds));
    } else if (it->is_number_integer()) {
      claims.expires_at = absl::FromUnixSeconds(it->get<int64_t>());
    } else if (it->is_number_float()) {
      const double seconds = it->get<double>();
      if (!std::isfinite(seconds) || std::fabs(seconds) > 1e15) {
        return absl::InvalidArgumentError("JWT claim \"exp\" is out of range");
      }
      claims.expires_at = absl::UnixEpoch() + absl::Seconds(seconds);
    } else {
      return absl::InvalidArgumentError("JWT claim \"exp\" is not a number");
    }
  }
  return claims;
}

absl::StatusOr<std::string> RawEs256Signature(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));  // NOLINT
  if (sig == nullptr)
    return absl::InternalError("cannot decode ECDSA signature: " + OpenSslError());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string raw(2 * kEs256CoordinateSize, '\0');
  unsigned char* out = reinterpret_cast<unsigned char*>(raw.data());
  if (BN_bn2binpad(r, out, kEs256CoordinateSize) != kEs256CoordinateSize ||
      BN_bn2binpad(s, out + kEs256CoordinateSize, kEs256CoordinateSize) != kEs256CoordinateSize) {
    return absl::InternalError("ECDSA signature does not fit P-256");
  }
  return raw;
}

absl::StatusOr<std::string> DerEs256Signature(std::string_view raw) {
  if (raw.size() != 2 * kEs256CoordinateSize) {
    return absl::UnauthenticatedError(
        internal::Cat("ES256 signature has ", raw.size(), " bytes, expected 64"));
  }
  const unsigned char* in = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(in, kEs256CoordinateSize, nullptr);
  BIGNUM* s = BN_bin2bn(in + kEs256CoordinateSize, kEs256CoordinateSize, nullptr);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (r == nullptr || s == nullptr || sig == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return absl::InternalError("cannot build ECDSA signature: " + OpenSslError());
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(sig.get(), &der);
  if (length <= 0) return absl::InternalError("cannot encode ECDSA signature: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(length));
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<std::string> HmacSha256(std::string_view secret, std::string_view data) {
  if (secret.empty()) return absl::InvalidArgumentError("HS256 secret is empty");
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
                mac.size(), &length) == nullptr) {
    return absl::InternalError("HMAC-SHA256 failed: " + OpenSslError());
  }
  return std::string(reinterpret_cast<const char*>(mac.data()), length);
}

// Parses and checks the algorithm; the caller checks the signature.
absl::StatusOr<UnverifiedJwt> ParseExpecting(std::string_view token, std::string_view algorithm) {
  absl::StatusOr<UnverifiedJwt> jwt = ParseJwtUnverified(token);
  if (!jwt.ok()) return jwt.status();
  if (jwt->algorithm != algorithm) {
    return absl::UnauthenticatedError(
        internal::Cat("JWT algorithm is \"", jwt->algorithm, "\", expected ", algorithm));
  }
  return jwt;
}

absl::StatusOr<JwtClaims> CheckClaims(absl::StatusOr<JwtClaims> claims,
                                      const TokenVerifyOptions& options) {
  if (!claims.ok()) return claims;
  const absl::Time now = options.now ? options.now() : absl::Now();
  if (claims->expires_at.has_value()) {
    if (*claims->expires_at <= now) {
      return absl::UnauthenticatedError(internal::Cat(
          "token expired at ", absl::FormatTime(*claims->expires_at, absl::UTCTimeZone())));
    }
  } else if (options.require_expiry) {
    return absl::UnauthenticatedError("token has no \"exp\" claim");
  }
  if (!options.expected_audience.empty()) {
    const bool found = std::find(claims->audience.begin(), claims->audience.end(),
                                 options.expected_audience) != claims->audience.end();
    if (!found) {
      return absl::UnauthenticatedError(
          internal::Cat("token audience does not contain \"", options.expected_audience, "\""));
    }
  }
  return claims;
}

}  // namespace

absl::StatusOr<UnverifiedJwt> ParseJwtUnverified(std::string_view token) {
  if (token.empty()) return absl::InvalidArgumentError("JWT is empty");
  if (token.size() > kMaxTokenSize) {
    return absl::InvalidArgumentError(internal::Cat(
        "JWT is ", token.size(), " bytes, more than the ", kMaxTokenSize, " allowed"));
  }
  const std::vector<std::string_view> parts = internal::Split(token, '.');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(
        internal::Cat("JWT has ", parts.size(), " dot-separated parts, expected 3"));
  }
  absl::StatusOr<std::string> header_text = DecodeBase64Url(parts[0], "header");
  if (!header_text.ok()) return header_text.status();
  absl::StatusOr<std::string> payload_text = DecodeBase64Url(parts[1], "payload");
  if (!payload_text.ok()) return payload_text.status();
  absl::StatusOr<std::string> signature = DecodeBase64Url(parts[2], "signature");
  if (!signature.ok()) return signature.status();

  UnverifiedJwt jwt;
  try {
    const Json header = Json::parse(*header_text, nullptr, /*allow_exceptions=*/false);
    if (header.is_discarded() || !header.is_object()) {
      return absl::InvalidArgumentError("JWT header is not a JSON object");
    }
    const auto alg = header.find("alg");
    if (alg == header.end() || !alg->is_string()) {
      return absl::InvalidArgumentError("JWT header has no \"alg\" string");
    }
    jwt.algorithm = alg->get<std::string>();
    const Json payload = Json::parse(*payload_text, nullptr, /*allow_exceptions=*/false);
    if (payload.is_discarded()) return absl::InvalidArgumentError("JWT payload is not JSON");
    absl::StatusOr<JwtClaims> claims = ClaimsFromJson(payload);
    if (!claims.ok()) return claims.status();
    jwt.claims = *std::move(claims);
  } catch (const std::exception& e) {
    // The checks above make this unreachable; kept so no exception leaves the library.
    return absl::InvalidArgumentError(internal::Cat("JWT JSON: ", e.what()));
  }
  jwt.signing_input = internal::Cat(parts[0], ".", parts[1]);
  jwt.signature = *std::move(signature);
  return jwt;
}

absl::StatusOr<SpiffeId> JwtSubjectSpiffeId(std::string_view token) {
  absl::StatusOr<UnverifiedJwt> jwt = ParseJwtUnverified(token);
  if (!jwt.ok()) return jwt.status();
  if (jwt->claims.subject.empty()) {
    return absl::InvalidArgumentError("JWT has no \"sub\" claim");
  }
  return SpiffeId::Parse(jwt->claims.subject);
}

absl::StatusOr<EcKey> EcKey::Generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (key == nullptr) return absl::InternalError("EC P-256 key generation: " + OpenSslError());
  return EcKey(WrapKey(key), true);
}

absl::StatusOr<EcKey> EcKey::FromPrivateKeyPem(std::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError("cannot read private key PEM: " + OpenSslError());
  }
  std::shared_ptr<EVP_PKEY> wrapped = WrapKey(key);
  if (absl::Status s = CheckP256(key); !s.ok()) return s;
  return EcKey(std::move(wrapped), true);
}

absl::StatusOr<EcKey> EcKey::FromPublicKeyPem(std::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio.get(), nullptr, NoPassphrase, nullptr);
  if (key == nullptr) {
    return absl::InvalidArgumentError("cannot read public key PEM: " + OpenSslError());
  }
  std::shared_ptr<EVP_PKEY> wrapped = WrapKey(key);
  if (absl::Status s = CheckP256(key); !s.ok()) return s;
  return EcKey(std::move(wrapped), false);
}

absl::StatusOr<EcKey> EcKey::FromCertificatePem(std::string_view pem) {
  BioPtr bio = MemoryBio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
  if (cert == nullptr) {
    return absl::InvalidArgumentError("cannot read certificate PEM: " + OpenSslError());
  }
  EVP_PKEY* key = X509_get_pubkey(cert.get());
  if (key == nullptr) {
    return absl::InvalidArgumentError("certificate has no usable public key: " + OpenSslError());
  }
  std::shared_ptr<EVP_PKEY> wrapped = WrapKey(key);
  if (absl::Status s = CheckP256(key); !s.ok()) return s;
  return EcKey(std::move(wrapped), false);
}

absl::StatusOr<std::string> EcKey::PrivateKeyPem() const {
  if (!has_private_key_) return absl::FailedPreconditionError("key has no private part");
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("cannot write private key PEM: " + OpenSslError());
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> EcKey::PublicKeyPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) {
    return absl::InternalError("cannot write public key PEM: " + OpenSslError());
  }
  return BioContents(bio.get());
}

absl::StatusOr<EcKey> EcKey::PublicKey() const {
  absl::StatusOr<std::string> pem = PublicKeyPem();
  if (!pem.ok()) return pem.status();
  return FromPublicKeyPem(*pem);
}

absl::StatusOr<std::string> SignJwtEs256(const JwtClaims& claims, const EcKey& key) {
  if (!key.has_private_key()) {
    return absl::FailedPreconditionError("ES256 signing needs a private key");
  }
  const std::string input = SigningInput(kJwtAlgEs256, claims);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  size_t der_size = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &der_size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return absl::InternalError("ES256 signing: " + OpenSslError());
  }
  std::string der(der_size, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &der_size,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return absl::InternalError("ES256 signing: " + OpenSslError());
  }
  der.resize(der_size);
  absl::StatusOr<std::string> raw = RawEs256Signature(der);
  if (!raw.ok()) return raw.status();
  return internal::Cat(input, ".", Base64Url(*raw));
}

absl::StatusOr<std::string> SignJwtHs256(const JwtClaims& claims, std::string_view secret) {
  const std::string input = SigningInput(kJwtAlgHs256, claims);
  absl::StatusOr<std::string> mac = HmacSha256(secret, input);
  if (!mac.ok()) return mac.status();
  return internal::Cat(input, ".", Base64Url(*mac));
}

absl::StatusOr<JwtClaims> VerifyJwtEs256Signature(std::string_view token, const EcKey& key) {
  absl::StatusOr<UnverifiedJwt> jwt = ParseExpecting(token, kJwtAlgEs256);
  if (!jwt.ok()) return jwt.status();
  absl::StatusOr<std::string> der = DerEs256Signature(jwt->signature);
  if (!der.ok()) return der.status();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.native()) != 1) {
    return absl::InternalError("ES256 verification: " + OpenSslError());
  }
  const int result = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(der->data()), der->size(),
      reinterpret_cast<const unsigned char*>(jwt->signing_input.data()), jwt->signing_input.size());
  ERR_clear_error();
  if (result != 1) return absl::UnauthenticatedError("ES256 signature does not verify");
  return std::move(jwt->claims);
}

absl::StatusOr<JwtClaims> VerifyJwtHs256Signature(std::string_view token, std::string_view secret) {
  absl::StatusOr<UnverifiedJwt> jwt = ParseExpecting(token, kJwtAlgHs256);
  if (!jwt.ok()) return jwt.status();
  absl::StatusOr<std::string> mac = HmacSha256(secret, jwt->signing_input);
  if (!mac.ok()) return mac.status();
  if (mac->size() != jwt->signature.size() ||
      CRYPTO_memcmp(mac->data(), jwt->signature.data(), mac->size()) != 0) {
    return absl::UnauthenticatedError("HS256 signature does not verify");
  }
  return std::move(jwt->claims);
}

Es256TokenSigner::Es256TokenSigner(std::shared_ptr<const SigningIdentitySource> source,
                                   absl::Duration max_lifetime, NowFunction now)
    : source_(std::move(source)), max_lifetime_(max_lifetime), now_(std::move(now)) {}

Es256TokenSigner::Es256TokenSigner(SpiffeId id, EcKey key, absl::Duration max_lifetime,
                                   NowFunction now)
    : Es256TokenSigner(std::make_shared<StaticSigningIdentitySource>(
                           SigningIdentity{std::move(id), std::move(key)}),
                       max_lifetime, std::move(now)) {}

absl::StatusOr<Token> Es256TokenSigner::Sign(std::string_view audience) {
  if (source_ == nullptr) return absl::FailedPreconditionError("no signing identity source");
  absl::StatusOr<SigningIdentity> identity = source_->Current();
  if (!identity.ok()) return identity.status();
  const absl::Time now = now_ ? now_() : absl::Now();
  const absl::Time expires = std::min(now + max_lifetime_, identity->not_after);
  if (expires <= now) {
    return absl::FailedPreconditionError(
        internal::Cat("signing identity ", identity->id.ToString(), " has expired"));
  }
  JwtClaims claims;
  claims.subject = identity->id.ToString();
  if (!audience.empty()) claims.audience.emplace_back(audience);
  claims.expires_at = expires;
  absl::StatusOr<std::string> value = SignJwtEs256(claims, identity->key);
  if (!value.ok()) return value.status();
  return Token{*std::move(value), expires};
}

Hs256TokenSigner::Hs256TokenSigner(SpiffeId id, std::string secret, absl::Duration max_lifetime,
                                   NowFunction now)
    : id_(std::move(id)),
      secret_(std::move(secret)),
      max_lifetime_(max_lifetime),
      now_(std::move(now)) {}

absl::StatusOr<Token> Hs256TokenSigner::Sign(std::string_view audience) {
  const absl::Time now = now_ ? now_() : absl::Now();
  JwtClaims claims;
  claims.subject = id_.ToString();
  if (!audience.empty()) claims.audience.emplace_back(audience);
  claims.expires_at = now + max_lifetime_;
  absl::StatusOr<std::string> value = SignJwtHs256(claims, secret_);
  if (!value.ok()) return value.status();
  return Token{*std::move(value), *claims.expires_at};
}

Es256TokenVerifier::Es256TokenVerifier(EcKey public_key, TokenVerifyOptions options)
    : key_(std::move(public_key)), options_(std::move(options)) {}

absl::StatusOr<JwtClaims> Es256TokenVerifier::Verify(std::string_view token) const {
  return CheckClaims(VerifyJwtEs256Signature(token, key_), options_);
}

Hs256TokenVerifier::Hs256TokenVerifier(std::string secret, TokenVerifyOptions options)
    : secret_(std::move(secret)), options_(std::move(options)) {}

absl::StatusOr<JwtClaims> Hs256TokenVerifier::Verify(std::string_view token) const {
  return CheckClaims(VerifyJwtHs256Signature(token, secret_), options_);
}

}  // namespace nsmcert::sdk::tools
