#include "reference/sdk/registry/updatepath.h"

#include <gtest/gtest.h>

#include "reference/sdk/registry/call_values.h"
#include "reference/sdk/registry/testing.h"

namespace nsmcert::sdk::reg {
namespace {

using registry::NetworkServiceEndpoint;
using testing::AddPeerToken;
using testing::MakeNse;
using testing::SignerFor;
using testing::TokenFor;

constexpr char kNse[] = "spiffe://test.com/nse";
constexpr char kNsmgr[] = "spiffe://test.com/nsmgr";
constexpr char kRegistry[] = "spiffe://test.com/registry";

// Records what updatepath left in the context; fails when told to.
class Probe : public NseRegistryElement {
 public:
  std::shared_ptr<CallTokenExpiry> expiry;
  std::shared_ptr<CallRegistryPath> path;
  bool fail = false;
  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    expiry = ctx.values().Get<CallTokenExpiry>();
    path = ctx.values().Get<CallRegistryPath>();
    if (fail) return absl::UnavailableError("down");
    return next.Register(ctx, nse);
  }
};

class UpdatePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chain_ = *NseRegistryChain::Make(
        {std::make_shared<NseUpdatePath>(SignerFor(kRegistry, clock_)), probe_});
  }
  std::string ResponsePath(Context& ctx) {
    auto it = ctx.response_headers().find("path");
    return it == ctx.response_headers().end() ? "<none>" : it->second;
  }

  FakeClock clock_;
  std::shared_ptr<Probe> probe_ = std::make_shared<Probe>();
  std::shared_ptr<NseRegistryChain> chain_;
};

TEST_F(UpdatePathTest, AFirstCallGetsTheCallerAndThisHopAndThePathComesBack) {
  Context ctx(clock_);
  absl::Time peer_expires = clock_.Now() + absl::Minutes(3);
  AddPeerToken(ctx, kNse, peer_expires);
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  auto reply = chain_->Register(ctx, nse);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(std::vector<std::string>(reply->path_ids().begin(), reply->path_ids().end()),
            (std::vector<std::string>{kNse, kRegistry}));

  auto path = tools::ParseRegistryPathJson(ResponsePath(ctx));
  ASSERT_TRUE(path.ok()) << ResponsePath(ctx);
  EXPECT_EQ(path->index, 0u);  // the caller's index, restored
  ASSERT_EQ(path->tokens.size(), 2u);
  EXPECT_EQ(path->tokens[0], TokenFor(kNse, peer_expires));
  EXPECT_EQ(tools::JwtSubjectSpiffeId(path->tokens[1])->ToString(), kRegistry);

  ASSERT_NE(probe_->expiry, nullptr);
  EXPECT_EQ(probe_->expiry->peer, peer_expires);
  EXPECT_EQ(probe_->expiry->own, clock_.Now() + absl::Minutes(10));
  ASSERT_NE(probe_->path, nullptr);
  EXPECT_EQ(probe_->path->path.index, 1u);  // this hop's index while the chain runs
}

TEST_F(UpdatePathTest, ThroughAnNsmgrTheRegistryAppendsItselfThird) {
  Context ctx(clock_);
  AddPeerToken(ctx, kNsmgr, clock_.Now() + absl::Minutes(10));
  tools::RegistryPath incoming{
      .index = 1, .tokens = {TokenFor(kNse, clock_.Now()), TokenFor(kNsmgr, clock_.Now())}};
  ctx.mutable_incoming_metadata().emplace("path", tools::FormatRegistryPathJson(incoming));
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  nse.add_path_ids(kNse);
  nse.add_path_ids(kNsmgr);
  auto reply = chain_->Register(ctx, nse);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(std::vector<std::string>(reply->path_ids().begin(), reply->path_ids().end()),
            (std::vector<std::string>{kNse, kNsmgr, kRegistry}));
  auto path = tools::ParseRegistryPathJson(ResponsePath(ctx));
  ASSERT_TRUE(path.ok());
  EXPECT_EQ(path->index, 1u);
  EXPECT_EQ(path->tokens.size(), 3u);
}

TEST_F(UpdatePathTest, WithoutAPeerTokenTheCallerSegmentStaysEmpty) {
  Context ctx(clock_);
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  auto reply = chain_->Register(ctx, nse);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(std::vector<std::string>(reply->path_ids().begin(), reply->path_ids().end()),
            (std::vector<std::string>{"", kRegistry}));
  EXPECT_FALSE(probe_->expiry->peer.has_value());
}

TEST_F(UpdatePathTest, MalformedPathOrIndexIsInvalidArgument) {
  Context ctx(clock_);
  ctx.mutable_incoming_metadata().emplace("path", "{not json");
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  auto reply = chain_->Register(ctx, nse);
  EXPECT_EQ(reply.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(reply.status().message().find("path"), std::string::npos);

  Context bad_index(clock_);
  tools::RegistryPath incoming{.index = 5, .tokens = {"a"}};
  bad_index.mutable_incoming_metadata().emplace("path", tools::FormatRegistryPathJson(incoming));
  EXPECT_EQ(chain_->Register(bad_index, nse).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(probe_->path, nullptr);  // the rest of the chain never ran
}

TEST_F(UpdatePathTest, AFailedCallSendsNoPath) {
  probe_->fail = true;
  Context ctx(clock_);
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  EXPECT_EQ(chain_->Register(ctx, nse).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ResponsePath(ctx), "<none>");
}

TEST_F(UpdatePathTest, AnOwnTokenWithoutSpiffeSubjectFailsTheCall) {
  struct Broken : tools::TokenSigner {
    absl::StatusOr<tools::Token> Sign(std::string_view) override {
      return tools::Token{"not-a-jwt", absl::InfiniteFuture()};
    }
  };
  auto chain =
      *NseRegistryChain::Make({std::make_shared<NseUpdatePath>(std::make_shared<Broken>())});
  Context ctx(clock_);
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  EXPECT_FALSE(chain->Register(ctx, nse).ok());
}

TEST_F(UpdatePathTest, UnregisterUpdatesThePathTooAndNetworkServicesWork) {
  Context ctx(clock_);
  AddPeerToken(ctx, kNse, clock_.Now() + absl::Minutes(1));
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  ASSERT_TRUE(chain_->Unregister(ctx, nse).ok());
  EXPECT_NE(ResponsePath(ctx), "<none>");

  auto ns_chain =
      *NsRegistryChain::Make({std::make_shared<NsUpdatePath>(SignerFor(kRegistry, clock_))});
  Context ns_ctx(clock_);
  AddPeerToken(ns_ctx, kNse, clock_.Now() + absl::Minutes(1));
  registry::NetworkService ns;
  ns.set_name("icmp");
  auto reply = ns_chain->Register(ns_ctx, ns);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->path_ids_size(), 2);
}

}  // namespace
}  // namespace nsmcert::sdk::reg
