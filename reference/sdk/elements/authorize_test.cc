#include "reference/sdk/elements/authorize.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;
using testing::SelfSignedCertificatePem;

const absl::Time kNow = absl::FromUnixSeconds(1'800'000'000);
constexpr char kNsc[] = "spiffe://example.org/nsc";
constexpr char kNsmgr[] = "spiffe://example.org/nsmgr";
constexpr char kFwd[] = "spiffe://example.org/forwarder";

std::string Token(const tools::EcKey& key, const std::string& sub, const std::string& aud,
                  absl::Time exp = kNow + absl::Minutes(10)) {
  tools::JwtClaims claims;
  claims.subject = sub;
  if (!aud.empty()) claims.audience = {aud};
  claims.expires_at = exp;
  return *tools::SignJwtEs256(claims, key);
}

class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    nsc_key_ = *tools::EcKey::Generate();
    nsmgr_key_ = *tools::EcKey::Generate();
  }

  // What the nsmgr's authorize sees: segment 0 carries the NSC's per-RPC token (aud nsmgr),
  // segment 1 the nsmgr's own token (aud nsc).
  networkservice::NetworkServiceRequest AtNsmgr() {
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id("nsmgr-conn");
    auto* path = conn->mutable_path();
    path->set_index(1);
    auto* s0 = path->add_path_segments();
    s0->set_name("nsc");
    s0->set_token(Token(nsc_key_, kNsc, kNsmgr));
    auto* s1 = path->add_path_segments();
    s1->set_name("nsmgr");
    s1->set_token(Token(nsmgr_key_, kNsmgr, kNsc));
    return request;
  }

  Context PeerContext(const tools::EcKey& peer_key) {
    Context ctx(clock_);
    ctx.set_has_peer(true);
    ctx.values().Set(
        std::make_shared<PeerCertificate>(PeerCertificate{SelfSignedCertificatePem(peer_key)}));
    return ctx;
  }

  absl::Status Run(TokenPolicies policies, networkservice::NetworkServiceRequest request,
                   Context ctx) {
    auto chain = MakeChain({std::make_shared<AuthorizeServer>(policies), tail_});
    return chain->Request(ctx, request).status();
  }

  FakeClock clock_{kNow};
  tools::EcKey nsc_key_ = *tools::EcKey::Generate();
  tools::EcKey nsmgr_key_ = *tools::EcKey::Generate();
  std::shared_ptr<Recorder> tail_ = std::make_shared<Recorder>();
};

TEST_F(AuthorizeTest, AChainedSignedUnexpiredPathPassesEveryPolicy) {
  EXPECT_TRUE(Run(TokenPolicies::Default(), AtNsmgr(), PeerContext(nsc_key_)).ok());
  EXPECT_EQ(tail_->request_count(), 1u);
}

TEST_F(AuthorizeTest, CallsWithoutAPeerAreNotChecked) {
  auto request = AtNsmgr();
  request.mutable_connection()->mutable_path()->mutable_path_segments(0)->set_token("garbage");
  EXPECT_TRUE(Run(TokenPolicies::Default(), request, Context(clock_)).ok());
}

TEST_F(AuthorizeTest, ATokenThatIsNotAJwtIsDenied) {
  auto request = AtNsmgr();
  request.mutable_connection()->mutable_path()->mutable_path_segments(0)->set_token("garbage");
  absl::Status s = Run(TokenPolicies::Insecure(), request, PeerContext(nsc_key_));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(std::string(s.message()).starts_with("no sufficient privileges")) << s;
  EXPECT_NE(s.message().find("tokens_valid"), std::string::npos);
  EXPECT_EQ(tail_->request_count(), 0u);
}

TEST_F(AuthorizeTest, AMissingTokenIsDenied) {
  auto request = AtNsmgr();
  request.mutable_connection()->mutable_path()->mutable_path_segments(0)->clear_token();
  EXPECT_EQ(Run(TokenPolicies::Insecure(), request, PeerContext(nsc_key_)).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(AuthorizeTest, TokensNotAddressedToTheNextHopAreNotChained) {
  auto request = AtNsmgr();
  request.mutable_connection()->mutable_path()->mutable_path_segments(0)->set_token(
      Token(nsc_key_, kNsc, kFwd));
  absl::Status s = Run(TokenPolicies::Default(), request, PeerContext(nsc_key_));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("tokens_chained"), std::string::npos) << s;
  EXPECT_TRUE(Run(TokenPolicies::Insecure(), request, PeerContext(nsc_key_)).ok());
}

TEST_F(AuthorizeTest, AnExpiredTokenIsDenied) {
  auto request = AtNsmgr();
  request.mutable_connection()->mutable_path()->mutable_path_segments(0)->set_token(
      Token(nsc_key_, kNsc, kNsmgr, kNow - absl::Seconds(1)));
  absl::Status s = Run(TokenPolicies::Insecure(), request, PeerContext(nsc_key_));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("tokens_expired"), std::string::npos) << s;
}

TEST_F(AuthorizeTest, APreviousTokenNotSignedByThePeerIsDenied) {
  absl::Status s = Run(TokenPolicies::Default(), AtNsmgr(), PeerContext(nsmgr_key_));
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("peer_token_signed"), std::string::npos) << s;
  // Without a certificate it cannot pass either; the insecure profile does not ask.
  Context no_cert(clock_);
  no_cert.set_has_peer(true);
  EXPECT_EQ(Run(TokenPolicies::Default(), AtNsmgr(), no_cert).code(),
            absl::StatusCode::kPermissionDenied);
  Context no_cert2(clock_);
  no_cert2.set_has_peer(true);
  EXPECT_TRUE(Run(TokenPolicies::Insecure(), AtNsmgr(), no_cert2).ok());
}

TEST_F(AuthorizeTest, SegmentsAfterTheIndexAreNotTheServersBusiness) {
  auto request = AtNsmgr();
  auto* later = request.mutable_connection()->mutable_path()->add_path_segments();
  later->set_name("nse");
  later->set_token("stale-or-garbage");
  EXPECT_TRUE(Run(TokenPolicies::Default(), request, PeerContext(nsc_key_)).ok());
}

TEST_F(AuthorizeTest, CloseIsCheckedToo) {
  auto chain = MakeChain({std::make_shared<AuthorizeServer>(TokenPolicies::Insecure()), tail_});
  auto request = AtNsmgr();
  connection::Connection conn = request.connection();
  conn.mutable_path()->mutable_path_segments(0)->set_token("garbage");
  Context ctx = PeerContext(nsc_key_);
  EXPECT_EQ(chain->Close(ctx, conn).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(tail_->close_count(), 0u);
}

TEST_F(AuthorizeTest, ACloseIsNotRefusedBecauseATokenBeforeThePeersExpired) {
  // At the forwarder (index 2) after the NSC stopped refreshing: the nsmgr's timeout closes, and
  // its Close still carries the NSC's expired token at segment 0.
  auto request = AtNsmgr();
  auto* path = request.mutable_connection()->mutable_path();
  path->mutable_path_segments(0)->set_token(Token(nsc_key_, kNsc, kNsmgr, kNow - absl::Seconds(1)));
  path->mutable_path_segments(1)->set_token(Token(nsmgr_key_, kNsmgr, kFwd));
  auto* own = path->add_path_segments();
  own->set_name("forwarder");
  own->set_token(Token(nsc_key_, kFwd, kNsmgr));
  path->set_index(2);
  auto chain = MakeChain({std::make_shared<AuthorizeServer>(TokenPolicies::Insecure()), tail_});

  Context close_ctx = PeerContext(nsmgr_key_);
  connection::Connection conn = request.connection();
  EXPECT_TRUE(chain->Close(close_ctx, conn).ok());
  EXPECT_EQ(tail_->close_count(), 1u);
  // A Request with the same path is refused: only a Close may carry it.
  Context request_ctx = PeerContext(nsmgr_key_);
  EXPECT_EQ(chain->Request(request_ctx, request).status().code(),
            absl::StatusCode::kPermissionDenied);
  // The peer's own token must still be fresh.
  conn.mutable_path()->mutable_path_segments(1)->set_token(
      Token(nsmgr_key_, kNsmgr, kFwd, kNow - absl::Seconds(1)));
  Context stale_peer = PeerContext(nsmgr_key_);
  absl::Status refused = chain->Close(stale_peer, conn);
  EXPECT_EQ(refused.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.message().find("segment 1"), std::string::npos) << refused;
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(AuthorizeTest, ClientClosesAConnectionWhosePathFailsAndReturnsTheError) {
  // The NSC at index 0 gets back the path; the server's token (segment 1) must verify against the
  // server's certificate.
  auto endpoint = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<AuthorizeClient>(TokenPolicies::Default()), endpoint});
  auto request = AtNsmgr();
  request.mutable_connection()->mutable_path()->set_index(0);
  Context good = PeerContext(nsmgr_key_);
  ASSERT_TRUE(chain->Request(good, request).ok());
  EXPECT_EQ(endpoint->close_count(), 0u);

  Context wrong = PeerContext(nsc_key_);
  EXPECT_EQ(chain->Request(wrong, request).status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(endpoint->close_count(), 1u);
}

TEST(CheckTokenPolicies, NoPoliciesAcceptAnything) {
  connection::Path path;
  path.add_path_segments()->set_token("x");
  EXPECT_TRUE(CheckTokenPolicies(TokenPolicies::None(), path, 1, 0, kNow, nullptr).ok());
}

TEST(CheckTokenPolicies, AnEmptyPathIsValid) {
  connection::Path path;
  EXPECT_TRUE(CheckTokenPolicies(TokenPolicies::Insecure(), path, 1, 0, kNow, nullptr).ok());
}

}  // namespace
}  // namespace nsmcert::sdk
