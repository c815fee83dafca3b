#include "reference/sdk/tools/jwt.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000) + absl::Milliseconds(250);

SpiffeId Id(std::string_view text) { return *SpiffeId::Parse(text); }

EcKey NewKey() {
  auto key = EcKey::Generate();
  EXPECT_TRUE(key.ok()) << key.status();
  return *key;
}

std::vector<std::string> Parts(std::string_view token) {
  std::vector<std::string> parts;
  for (std::string_view part : internal::Split(token, '.')) parts.emplace_back(part);
  return parts;
}

std::string DecodePart(std::string_view part) {
  std::string out;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(internal::ToAbsl(part), &out)) << part;
  return out;
}

// Flips one character of `token` at `pos` to another valid base64url character.
std::string Tamper(std::string token, size_t pos) {
  token[pos] = token[pos] == 'A' ? 'B' : 'A';
  return token;
}

// An independent ES256 check written against OpenSSL directly: raw r||s -> DER -> EVP verify.
bool OpenSslVerifiesEs256(std::string_view token, const std::string& public_pem) {
  const std::vector<std::string> parts = Parts(token);
  if (parts.size() != 3) return false;
  const std::string raw = DecodePart(parts[2]);
  if (raw.size() != 64) return false;
  const std::string input = absl::StrCat(parts[0], ".", parts[1]);

  BIO* bio = BIO_new_mem_buf(public_pem.data(), static_cast<int>(public_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return false;
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG* sig = ECDSA_SIG_new();
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, der, static_cast<size_t>(der_len),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) == 1;
  EVP_MD_CTX_free(ctx);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  EVP_PKEY_free(key);
  return ok;
}

// The RFC 7515 appendix A.3 public key, built from its JWK coordinates.
EcKey Rfc7515A3PublicKey() {
  const std::string x = DecodePart("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
  const std::string y = DecodePart("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0");
  std::string point = "\x04" + x + y;
  OSSL_PARAM_BLD* build = OSSL_PARAM_BLD_new();
  OSSL_PARAM_BLD_push_utf8_string(build, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
  OSSL_PARAM_BLD_push_octet_string(build, OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  OSSL_PARAM* params = OSSL_PARAM_BLD_to_param(build);
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  EVP_PKEY* key = nullptr;
  EXPECT_EQ(EVP_PKEY_fromdata_init(ctx), 1);
  EXPECT_EQ(EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params), 1);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  const std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(key);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(build);
  auto loaded = EcKey::FromPublicKeyPem(pem);
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return *loaded;
}

constexpr char kRfc7515A3Token[] =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

constexpr char kRfc7515A1Token[] =
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
    "."
    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
constexpr char kRfc7515A1Key[] =
    "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow";

TEST(EcKeyTest, PemRoundTrip) {
  const EcKey key = NewKey();
  EXPECT_TRUE(key.has_private_key());
  auto private_pem = key.PrivateKeyPem();
  ASSERT_TRUE(private_pem.ok()) << private_pem.status();
  EXPECT_THAT(*private_pem, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  auto public_pem = key.PublicKeyPem();
  ASSERT_TRUE(public_pem.ok()) << public_pem.status();
  EXPECT_THAT(*public_pem, HasSubstr("-----BEGIN PUBLIC KEY-----"));

  auto reloaded = EcKey::FromPrivateKeyPem(*private_pem);
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  auto reloaded_public = EcKey::FromPublicKeyPem(*public_pem);
  ASSERT_TRUE(reloaded_public.ok()) << reloaded_public.status();
  EXPECT_FALSE(reloaded_public->has_private_key());
  EXPECT_EQ(reloaded_public->PrivateKeyPem().status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*reloaded->PublicKeyPem(), *public_pem);

  JwtClaims claims{"spiffe://example.org/a", {}, kNow};
  auto token = SignJwtEs256(claims, *reloaded);
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_TRUE(VerifyJwtEs256Signature(*token, *reloaded_public).ok());
  EXPECT_EQ(SignJwtEs256(claims, *reloaded_public).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(EcKeyTest, RejectsOtherKeysAndGarbage) {
  EVP_PKEY* p384 = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384");
  ASSERT_NE(p384, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, p384, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  const std::string p384_pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(p384);
  auto loaded = EcKey::FromPrivateKeyPem(p384_pem);
  ASSERT_FALSE(loaded.ok());
  EXPECT_THAT(loaded.status().message(), HasSubstr("P-256"));

  EXPECT_EQ(EcKey::FromPrivateKeyPem("not a pem").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EcKey::FromPublicKeyPem("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(EcKey::FromCertificatePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                                      "CERTIFICATE-----\n")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(EcKeyTest, EncryptedPrivateKeyIsRejectedWithoutPrompting) {
  const EcKey key = NewKey();
  BIO* bio = BIO_new(BIO_s_mem());
  char passphrase[] = "secret";
  ASSERT_EQ(
      PEM_write_bio_PrivateKey(bio, key.native(), EVP_aes_128_cbc(),
                               reinterpret_cast<unsigned char*>(passphrase), 6, nullptr, nullptr),
      1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  const std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  EXPECT_EQ(EcKey::FromPrivateKeyPem(pem).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EcKeyTest, PublicKeyFromCertificate) {
  const EcKey key = NewKey();
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key.native());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("nsmgr"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  ASSERT_GT(X509_sign(cert, key.native(), EVP_sha256()), 0);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  const std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  X509_free(cert);

  auto from_cert = EcKey::FromCertificatePem(pem);
  ASSERT_TRUE(from_cert.ok()) << from_cert.status();
  EXPECT_FALSE(from_cert->has_private_key());
  Es256TokenSigner signer(Id("spiffe://example.org/nsmgr"), key, absl::Minutes(10),
                          [] { return kNow; });
  auto token = signer.Sign("spiffe://example.org/nsc");
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(VerifyJwtEs256Signature(token->value, *from_cert).ok());
}

TEST(SignJwtEs256Test, UpstreamShape) {
  const EcKey key = NewKey();
  JwtClaims claims{"spiffe://k8s.nsm/ns/default/pod/nsc",
                   {"spiffe://k8s.nsm/ns/nsm/pod/nsmgr"},
                   absl::FromUnixSeconds(1800000600) + absl::Milliseconds(999)};
  auto token = SignJwtEs256(claims, key);
  ASSERT_TRUE(token.ok()) << token.status();
  const std::vector<std::string> parts = Parts(*token);
  ASSERT_EQ(parts.size(), 3u);
  for (const std::string& part : parts) {
    EXPECT_EQ(part.find('='), std::string::npos);
    EXPECT_EQ(part.find('+'), std::string::npos);
    EXPECT_EQ(part.find('/'), std::string::npos);
  }
  EXPECT_EQ(DecodePart(parts[0]), R"({"alg":"ES256","typ":"JWT"})");
  // `exp` is whole seconds, rounded down; `aud` is an array even with one entry.
  EXPECT_EQ(DecodePart(parts[1]),
            R"({"sub":"spiffe://k8s.nsm/ns/default/pod/nsc",)"
            R"("aud":["spiffe://k8s.nsm/ns/nsm/pod/nsmgr"],"exp":1800000600})");
  EXPECT_EQ(DecodePart(parts[2]).size(), 64u);
}

TEST(SignJwtEs256Test, VerifiesWithOpenSslDirectly) {
  const EcKey key = NewKey();
  auto token = SignJwtEs256({"spiffe://example.org/a", {"spiffe://example.org/b"}, kNow}, key);
  ASSERT_TRUE(token.ok());
  const std::string public_pem = *key.PublicKeyPem();
  EXPECT_TRUE(OpenSslVerifiesEs256(*token, public_pem));
  EXPECT_FALSE(OpenSslVerifiesEs256(Tamper(*token, token->find('.') + 3), public_pem));
}

// The openssl command line tool as a third party: it must accept our signature.
TEST(SignJwtEs256Test, VerifiesWithOpenSslCommandLine) {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "openssl command not installed";
  }
  char dir_template[] = "/tmp/nsmcert-jwt-XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  const std::filesystem::path dir(dir_template);
  const EcKey key = NewKey();
  auto token = SignJwtEs256({"spiffe://example.org/a", {}, kNow}, key);
  ASSERT_TRUE(token.ok());
  const std::vector<std::string> parts = Parts(*token);
  const std::string raw = DecodePart(parts[2]);
  ECDSA_SIG* sig = ECDSA_SIG_new();
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  ECDSA_SIG_set0(sig, BN_bin2bn(bytes, 32, nullptr), BN_bin2bn(bytes + 32, 32, nullptr));
  unsigned char* der = nullptr;
  const int der_len = i2d_ECDSA_SIG(sig, &der);
  std::ofstream(dir / "sig.der", std::ios::binary)
      .write(reinterpret_cast<const char*>(der), der_len);
  OPENSSL_free(der);
  ECDSA_SIG_free(sig);
  std::ofstream(dir / "input", std::ios::binary) << parts[0] << "." << parts[1];
  std::ofstream(dir / "tampered", std::ios::binary) << parts[0] << "." << parts[1] << "x";
  std::ofstream(dir / "pub.pem") << *key.PublicKeyPem();

  const std::string verify =
      absl::StrCat("openssl dgst -sha256 -verify ", (dir / "pub.pem").string(), " -signature ",
                   (dir / "sig.der").string(), " ");
  EXPECT_EQ(std::system((verify + (dir / "input").string() + " >/dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system((verify + (dir / "tampered").string() + " >/dev/null 2>&1").c_str()), 0);
  std::filesystem::remove_all(dir);
}

TEST(VerifyJwtEs256Test, TamperedTokensFail) {
  const EcKey key = NewKey();
  const EcKey other = NewKey();
  auto token = SignJwtEs256({"spiffe://example.org/a", {"spiffe://example.org/b"}, kNow}, key);
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(VerifyJwtEs256Signature(*token, key).ok());

  const size_t payload = token->find('.') + 1;
  const size_t signature = token->rfind('.') + 1;
  for (const std::string& bad :
       {Tamper(*token, payload + 5), Tamper(*token, signature + 10), Tamper(*token, 2)}) {
    auto verified = VerifyJwtEs256Signature(bad, key);
    EXPECT_FALSE(verified.ok()) << bad;
  }
  auto wrong_key = VerifyJwtEs256Signature(*token, other);
  EXPECT_EQ(wrong_key.status().code(), absl::StatusCode::kUnauthenticated);

  // A forged payload re-using the original signature.
  JwtClaims forged{"spiffe://example.org/evil", {"spiffe://example.org/b"}, kNow};
  auto forged_token = SignJwtEs256(forged, other);
  ASSERT_TRUE(forged_token.ok());
  const std::string spliced = absl::StrCat(forged_token->substr(0, forged_token->rfind('.')),
                                           token->substr(token->rfind('.')));
  EXPECT_EQ(VerifyJwtEs256Signature(spliced, key).status().code(),
            absl::StatusCode::kUnauthenticated);

  // Truncated signature.
  EXPECT_EQ(VerifyJwtEs256Signature(token->substr(0, token->size() - 4), key).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(VerifyJwtEs256Test, AlgorithmMustMatch) {
  auto hs = SignJwtHs256({"spiffe://example.org/a", {}, kNow}, "secret");
  ASSERT_TRUE(hs.ok());
  auto verified = VerifyJwtEs256Signature(*hs, NewKey());
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(verified.status().message(), HasSubstr("HS256"));

  // "alg":"none" with an empty signature is refused by both verifiers.
  const std::string none = absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"none"})"), ".",
                                        absl::WebSafeBase64Escape(R"({"sub":"x"})"), ".");
  EXPECT_FALSE(VerifyJwtEs256Signature(none, NewKey()).ok());
  EXPECT_FALSE(VerifyJwtHs256Signature(none, "secret").ok());
}

TEST(VerifyJwtEs256Test, Rfc7515AppendixA3Vector) {
  const EcKey key = Rfc7515A3PublicKey();
  auto claims = VerifyJwtEs256Signature(kRfc7515A3Token, key);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->expires_at, absl::FromUnixSeconds(1300819380));
  EXPECT_TRUE(claims->subject.empty());

  std::string tampered = kRfc7515A3Token;
  tampered.back() = 'A';
  EXPECT_FALSE(VerifyJwtEs256Signature(tampered, key).ok());

  Es256TokenVerifier verifier(key, {"", true, [] { return absl::FromUnixSeconds(1300819000); }});
  EXPECT_TRUE(verifier.Verify(kRfc7515A3Token).ok());
  Es256TokenVerifier late(key, {"", true, [] { return absl::FromUnixSeconds(1300819380); }});
  EXPECT_THAT(late.Verify(kRfc7515A3Token).status().message(), HasSubstr("expired"));
}

TEST(Hs256Test, Rfc7515AppendixA1Vector) {
  std::string secret;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(kRfc7515A1Key, &secret));
  auto claims = VerifyJwtHs256Signature(kRfc7515A1Token, secret);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->expires_at, absl::FromUnixSeconds(1300819380));
  EXPECT_FALSE(VerifyJwtHs256Signature(kRfc7515A1Token, "other").ok());
}

TEST(Hs256Test, SignAndVerify) {
  auto token = SignJwtHs256({"spiffe://test.com/subject", {}, kNow}, "supersecret");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(DecodePart(Parts(*token)[0]), R"({"alg":"HS256","typ":"JWT"})");
  EXPECT_EQ(DecodePart(Parts(*token)[1]),
            R"({"sub":"spiffe://test.com/subject","exp":1800000000})");
  auto claims = VerifyJwtHs256Signature(*token, "supersecret");
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "spiffe://test.com/subject");
  EXPECT_EQ(VerifyJwtHs256Signature(*token, "wrong").status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      VerifyJwtHs256Signature(Tamper(*token, token->find('.') + 4), "supersecret").status().code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(SignJwtHs256({}, "").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ParseJwtUnverifiedTest, ReadsClaimsWithoutAKey) {
  auto token = SignJwtEs256(
      {"spiffe://example.org/a", {"spiffe://example.org/b", "spiffe://example.org/c"}, kNow},
      NewKey());
  ASSERT_TRUE(token.ok());
  auto jwt = ParseJwtUnverified(*token);
  ASSERT_TRUE(jwt.ok()) << jwt.status();
  EXPECT_EQ(jwt->algorithm, "ES256");
  EXPECT_EQ(jwt->claims.subject, "spiffe://example.org/a");
  EXPECT_THAT(jwt->claims.audience,
              ElementsAre("spiffe://example.org/b", "spiffe://example.org/c"));
  EXPECT_EQ(jwt->claims.expires_at, absl::FromUnixSeconds(1800000000));
  EXPECT_EQ(jwt->signature.size(), 64u);
  EXPECT_EQ(jwt->signing_input, token->substr(0, token->rfind('.')));
}

std::string Unsigned(std::string_view header, std::string_view payload) {
  return absl::StrCat(absl::WebSafeBase64Escape(internal::ToAbsl(header)), ".",
                      absl::WebSafeBase64Escape(internal::ToAbsl(payload)), ".",
                      absl::WebSafeBase64Escape("sig"));
}

TEST(ParseJwtUnverifiedTest, LenientOnClaimForms) {
  auto single_aud = ParseJwtUnverified(
      Unsigned(R"({"alg":"ES256"})", R"({"sub":"s","aud":"spiffe://a/b","exp":1.5,"iat":3})"));
  ASSERT_TRUE(single_aud.ok()) << single_aud.status();
  EXPECT_THAT(single_aud->claims.audience, ElementsAre("spiffe://a/b"));
  EXPECT_EQ(single_aud->claims.expires_at, absl::FromUnixSeconds(1) + absl::Milliseconds(500));

  // Padded base64url is accepted too.
  std::string padded = absl::StrCat(absl::Base64Escape(R"({"alg":"HS256"})"), ".",
                                    absl::Base64Escape(R"({"sub":"x"})"), ".");
  for (char& c : padded) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  auto parsed = ParseJwtUnverified(padded);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->claims.subject, "x");
  EXPECT_FALSE(parsed->claims.expires_at.has_value());
}

TEST(ParseJwtUnverifiedTest, RejectsMalformed) {
  struct Case {
    std::string token;
    const char* reason;
  };
  const Case cases[] = {
      {"", "empty"},
      {"abc", "3"},
      {"a.b", "3"},
      {"a.b.c.d", "3"},
      {"!!!.e30.", "header"},
      {absl::StrCat(absl::WebSafeBase64Escape("not json"), ".e30."), "header"},
      {Unsigned(R"({"typ":"JWT"})", "{}"), "alg"},
      {Unsigned(R"({"alg":5})", "{}"), "alg"},
      {Unsigned(R"({"alg":"ES256"})", "[1]"), "object"},
      {Unsigned(R"({"alg":"ES256"})", "{"), "payload"},
      {Unsigned(R"({"alg":"ES256"})", R"({"sub":1})"), "sub"},
      {Unsigned(R"({"alg":"ES256"})", R"({"aud":[1]})"), "aud"},
      {Unsigned(R"({"alg":"ES256"})", R"({"aud":{}})"), "aud"},
      {Unsigned(R"({"alg":"ES256"})", R"({"exp":"soon"})"), "exp"},
      {Unsigned(R"({"alg":"ES256"})", R"({"exp":1e300})"), "exp"},
      {Unsigned(R"({"alg":"ES256"})", R"({"exp":18446744073709551615})"), "exp"},
      {std::string(70000, 'a'), "allowed"},
  };
  for (const Case& c : cases) {
    auto jwt = ParseJwtUnverified(c.token);
    EXPECT_FALSE(jwt.ok()) << "accepted " << c.token;
    if (!jwt.ok()) {
      EXPECT_EQ(jwt.status().code(), absl::StatusCode::kInvalidArgument) << c.token;
      EXPECT_THAT(jwt.status().message(), HasSubstr(c.reason)) << c.token;
    }
  }
}

TEST(JwtSubjectSpiffeIdTest, ReadsSubject) {
  auto id =
      JwtSubjectSpiffeId(Unsigned(R"({"alg":"HS256"})", R"({"sub":"spiffe://test.com/subject"})"));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToString(), "spiffe://test.com/subject");
  EXPECT_THAT(JwtSubjectSpiffeId(Unsigned(R"({"alg":"HS256"})", "{}")).status().message(),
              HasSubstr("sub"));
  EXPECT_THAT(
      JwtSubjectSpiffeId(Unsigned(R"({"alg":"HS256"})", R"({"sub":"nsc"})")).status().message(),
      HasSubstr("scheme"));
  EXPECT_FALSE(JwtSubjectSpiffeId("TestToken").ok());
}

TEST(Es256TokenSignerTest, SignsWithIdentityAudienceAndLifetime) {
  const EcKey key = NewKey();
  Es256TokenSigner signer(Id("spiffe://example.org/nsmgr"), key, absl::Minutes(10),
                          [] { return kNow; });
  auto token = signer.Sign("spiffe://example.org/forwarder");
  ASSERT_TRUE(token.ok()) << token.status();
  EXPECT_EQ(token->expires, kNow + absl::Minutes(10));
  auto claims = VerifyJwtEs256Signature(token->value, key);
  ASSERT_TRUE(claims.ok());
  EXPECT_EQ(claims->subject, "spiffe://example.org/nsmgr");
  EXPECT_THAT(claims->audience, ElementsAre("spiffe://example.org/forwarder"));
  // The claim holds whole seconds; the returned expiry keeps full precision.
  EXPECT_EQ(claims->expires_at, absl::FromUnixSeconds(1800000600));

  auto no_peer = signer.Sign("");
  ASSERT_TRUE(no_peer.ok());
  EXPECT_EQ(DecodePart(Parts(no_peer->value)[1]).find("aud"), std::string::npos);
}

TEST(Es256TokenSignerTest, ClampsToIdentityNotAfter) {
  const EcKey key = NewKey();
  auto source = std::make_shared<StaticSigningIdentitySource>(
      SigningIdentity{Id("spiffe://example.org/nse"), key, kNow + absl::Minutes(3)});
  Es256TokenSigner signer(source, absl::Minutes(10), [] { return kNow; });
  auto token = signer.Sign("");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->expires, kNow + absl::Minutes(3));

  Es256TokenSigner late(source, absl::Minutes(10), [] { return kNow + absl::Minutes(3); });
  EXPECT_EQ(late.Sign("").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Es256TokenSignerTest, NeedsPrivateKey) {
  Es256TokenSigner signer(Id("spiffe://example.org/nse"), *NewKey().PublicKey());
  EXPECT_EQ(signer.Sign("").status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(TokenVerifierTest, ChecksExpiryAndAudience) {
  const EcKey key = NewKey();
  absl::Time now = kNow;
  Es256TokenSigner signer(Id("spiffe://example.org/nsc"), key, absl::Minutes(10),
                          [&now] { return now; });
  auto token = signer.Sign("spiffe://example.org/nsmgr");
  ASSERT_TRUE(token.ok());

  Es256TokenVerifier verifier(*key.PublicKey(),
                              {"spiffe://example.org/nsmgr", true, [&now] { return now; }});
  auto claims = verifier.Verify(token->value);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "spiffe://example.org/nsc");

  Es256TokenVerifier wrong_audience(*key.PublicKey(),
                                    {"spiffe://example.org/other", true, [&now] { return now; }});
  EXPECT_THAT(wrong_audience.Verify(token->value).status().message(), HasSubstr("audience"));

  now = kNow + absl::Minutes(10);
  auto expired = verifier.Verify(token->value);
  EXPECT_EQ(expired.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_THAT(expired.status().message(), HasSubstr("expired"));
}

TEST(TokenVerifierTest, ExpiryRequirementIsOptional) {
  auto token = SignJwtHs256({"spiffe://test.com/subject", {}, std::nullopt}, "k");
  ASSERT_TRUE(token.ok());
  Hs256TokenVerifier strict("k");
  EXPECT_THAT(strict.Verify(*token).status().message(), HasSubstr("exp"));
  Hs256TokenVerifier lenient("k", {"", false, {}});
  EXPECT_TRUE(lenient.Verify(*token).ok());
}

TEST(Hs256TokenSignerTest, SandboxStyleTokens) {
  Hs256TokenSigner signer(Id("spiffe://test.com/subject"), "supersecret", absl::Hours(1),
                          [] { return kNow; });
  auto token = signer.Sign("");
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->expires, kNow + absl::Hours(1));
  Hs256TokenVerifier verifier("supersecret", {"", true, [] { return kNow; }});
  auto claims = verifier.Verify(token->value);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_EQ(claims->subject, "spiffe://test.com/subject");
  EXPECT_EQ(JwtSubjectSpiffeId(token->value)->ToString(), "spiffe://test.com/subject");
}

}  // namespace
}  // namespace nsmcert::sdk::tools
