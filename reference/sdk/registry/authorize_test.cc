#include "reference/sdk/registry/authorize.h"

#include <gtest/gtest.h>

#include "reference/sdk/registry/memory.h"
#include "reference/sdk/registry/testing.h"
#include "reference/sdk/registry/updatepath.h"

namespace nsmcert::sdk::reg {
namespace {

using registry::NetworkServiceEndpoint;
using testing::AddPeerToken;
using testing::MakeNse;
using testing::SignerFor;

constexpr char kAlice[] = "spiffe://test.com/alice";
constexpr char kBob[] = "spiffe://test.com/bob";

// updatepath → authorize → store, the order the registry uses; the store is the owner lookup.
class AuthorizeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = store_;
    chain_ = *NseRegistryChain::Make({
        std::make_shared<NseUpdatePath>(SignerFor("spiffe://test.com/registry", clock_)),
        std::make_shared<NseAuthorize>(
            [store](const std::string& name) -> std::optional<std::string> {
              auto nse = store->Get(name);
              if (!nse) return std::nullopt;
              return nse->path_ids().empty() ? "" : nse->path_ids(0);
            }),
        store_,
    });
  }
  absl::Status Register(const std::string& name, const std::string& identity) {
    Context ctx(clock_);
    if (!identity.empty()) AddPeerToken(ctx, identity, clock_.Now() + absl::Minutes(10));
    NetworkServiceEndpoint nse = MakeNse(name);
    return chain_->Register(ctx, nse).status();
  }
  absl::Status Unregister(const std::string& name, const std::string& identity) {
    Context ctx(clock_);
    if (!identity.empty()) AddPeerToken(ctx, identity, clock_.Now() + absl::Minutes(10));
    NetworkServiceEndpoint nse = MakeNse(name);
    return chain_->Unregister(ctx, nse);
  }

  FakeClock clock_;
  std::shared_ptr<NseMemory> store_ = std::make_shared<NseMemory>();
  std::shared_ptr<NseRegistryChain> chain_;
};

TEST_F(AuthorizeTest, OnlyTheOwnerMayRefreshOrUnregister) {
  ASSERT_TRUE(Register("nse-1", kAlice).ok());
  absl::Status stolen = Register("nse-1", kBob);
  EXPECT_EQ(stolen.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(stolen.message().find("\"nse-1\""), std::string::npos) << stolen;
  EXPECT_NE(stolen.message().find(kBob), std::string::npos) << stolen;
  EXPECT_TRUE(Register("nse-1", kAlice).ok());  // the owner's refresh

  EXPECT_EQ(Unregister("nse-1", kBob).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Unregister("nse-1", "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store_->Get("nse-1").has_value());
  EXPECT_TRUE(Unregister("nse-1", kAlice).ok());
  // Once gone, anyone may take the name.
  EXPECT_TRUE(Register("nse-1", kBob).ok());
}

TEST_F(AuthorizeTest, WithoutIdentitiesEverythingIsAllowed) {
  ASSERT_TRUE(Register("nse-1", "").ok());
  EXPECT_TRUE(Register("nse-1", "").ok());
  // An entry registered without identity can be claimed; from then on it is owned.
  EXPECT_TRUE(Register("nse-1", kAlice).ok());
  EXPECT_EQ(Register("nse-1", "").code(), absl::StatusCode::kPermissionDenied);
}

TEST(Authorize, TheCallerIsPathSegmentZero) {
  Context ctx;
  EXPECT_EQ(CallerIdentity(ctx), "");
  auto ns_chain = *NsRegistryChain::Make({std::make_shared<NsAuthorize>(
      [](const std::string&) -> std::optional<std::string> { return std::string(kAlice); })});
  registry::NetworkService ns;
  ns.set_name("icmp");
  EXPECT_EQ(ns_chain->Register(ctx, ns).status().code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace nsmcert::sdk::reg
