#include "reference/nsmgr/registry_proxy.h"

#include <gtest/gtest.h>

#include "nsmcert/api/constants.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/registry/call_values.h"
#include "reference/sdk/registry/testing.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::nsmgr {
namespace {

using sdk::reg::testing::MakeNse;

constexpr char kRegistryUrl[] = "tcp://10.0.0.9:5002";

// Stands in for the gRPC client: records what the call would carry and answers with a header.
class FakeRegistry : public sdk::NseRegistryElement {
 public:
  absl::StatusOr<registry::NetworkServiceEndpoint> Register(
      sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
      const sdk::NseRegistryNext& next) override {
    Record(ctx);
    Answer(ctx);
    return next.Register(ctx, nse);
  }
  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) override {
    Record(ctx);
    return next.Find(ctx, query, sink);
  }
  absl::Status Unregister(sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const sdk::NseRegistryNext& next) override {
    Record(ctx);
    Answer(ctx);
    return next.Unregister(ctx, nse);
  }

  std::string Sent(std::string_view key) const {
    auto it = sent.find(std::string(key));
    return it == sent.end() ? "" : it->second;
  }

  sdk::Metadata sent;
  std::string url;
  std::string answer_path;  // the `path` response header; empty = none
  int calls = 0;

 private:
  void Record(sdk::Context& ctx) {
    ++calls;
    sent = ctx.outgoing_metadata();
    auto client_url = ctx.values().Get<sdk::ClientUrl>();
    url = client_url ? client_url->url : "";
  }
  void Answer(sdk::Context& ctx) {
    ctx.response_metadata().clear();
    if (!answer_path.empty()) {
      ctx.response_metadata().emplace(std::string(api::metadata::kRegistryPath), answer_path);
    }
  }
};

class FailingSigner : public sdk::tools::TokenSigner {
 public:
  absl::StatusOr<sdk::tools::Token> Sign(std::string_view) override {
    return absl::FailedPreconditionError("identity expired");
  }
};

class RegistryProxyTest : public ::testing::Test {
 protected:
  void Build(std::shared_ptr<sdk::tools::TokenSigner> signer) {
    RegistryProxyOptions options;
    options.registry_url = kRegistryUrl;
    options.signer = std::move(signer);
    options.registry_identity = "spiffe://example.org/registry";
    chain_ = *sdk::NseRegistryChain::Make({std::make_shared<NseRegistryProxy>(options), fake_});
  }

  sdk::FakeClock clock_;
  std::shared_ptr<FakeRegistry> fake_ = std::make_shared<FakeRegistry>();
  std::shared_ptr<sdk::NseRegistryChain> chain_;
};

TEST_F(RegistryProxyTest, ForwardsTheServerHopsPathAndTakesTheRegistrysBack) {
  Build(sdk::reg::testing::SignerFor("spiffe://example.org/nsmgr", clock_));
  sdk::Context ctx(clock_);
  // What updatepath left in the call: [caller, nsmgr], index at the nsmgr.
  sdk::tools::RegistryPath path{1, {"caller-token", "nsmgr-token"}};
  ctx.values().Set(std::make_shared<sdk::reg::CallRegistryPath>(sdk::reg::CallRegistryPath{path}));
  fake_->answer_path = sdk::tools::FormatRegistryPathJson({1, {"a", "b", "registry-token"}});

  auto nse = MakeNse("nse-1", {"icmp"}, "tcp://10.0.0.1:5001");
  ASSERT_TRUE(chain_->Register(ctx, nse).ok());
  EXPECT_EQ(fake_->url, kRegistryUrl);
  EXPECT_EQ(fake_->Sent(api::metadata::kRegistryPath), sdk::tools::FormatRegistryPathJson(path));

  // The per-RPC token: this hop's, addressed to the registry, with its expiry.
  const std::string token = fake_->Sent(api::metadata::kClientToken);
  auto claims = sdk::tools::ParseJwtUnverified(token);
  ASSERT_TRUE(claims.ok()) << token;
  EXPECT_EQ(claims->claims.subject, "spiffe://example.org/nsmgr");
  EXPECT_EQ(claims->claims.audience, std::vector<std::string>{"spiffe://example.org/registry"});
  EXPECT_EQ(fake_->Sent(api::metadata::kClientTokenExpires),
            sdk::tools::FormatRfc3339Nano(clock_.Now() + absl::Minutes(10)));

  // The caller gets the registry's segment back; the index stays at this hop for updatepath.
  auto after = ctx.values().Get<sdk::reg::CallRegistryPath>();
  EXPECT_EQ(after->path.index, 1u);
  EXPECT_EQ(after->path.tokens, (std::vector<std::string>{"a", "b", "registry-token"}));
}

TEST_F(RegistryProxyTest, OwnCallsStartTheirOwnPath) {
  Build(sdk::reg::testing::SignerFor("spiffe://example.org/nsmgr", clock_));
  sdk::Context ctx(clock_);
  auto nse = MakeNse("nse-1", {"icmp"}, "tcp://10.0.0.1:5001");
  ASSERT_TRUE(chain_->Unregister(ctx, nse).ok());
  auto sent = sdk::tools::ParseRegistryPathJson(fake_->Sent(api::metadata::kRegistryPath));
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(sent->index, 0u);
  EXPECT_EQ(sent->tokens, std::vector<std::string>{fake_->Sent(api::metadata::kClientToken)});
}

TEST_F(RegistryProxyTest, FindCarriesTheTokenButNoPath) {
  Build(sdk::reg::testing::SignerFor("spiffe://example.org/nsmgr", clock_));
  sdk::Context ctx(clock_);
  sdk::reg::testing::NseCollectingSink sink;
  ASSERT_TRUE(chain_->Find(ctx, {}, sink).ok());
  EXPECT_EQ(fake_->url, kRegistryUrl);
  EXPECT_FALSE(fake_->Sent(api::metadata::kClientToken).empty());
  EXPECT_EQ(fake_->sent.count(std::string(api::metadata::kRegistryPath)), 0u);
}

TEST_F(RegistryProxyTest, MalformedAnswerLeavesThePathAlone) {
  Build(sdk::reg::testing::SignerFor("spiffe://example.org/nsmgr", clock_));
  sdk::Context ctx(clock_);
  sdk::tools::RegistryPath path{1, {"caller-token", "nsmgr-token"}};
  ctx.values().Set(std::make_shared<sdk::reg::CallRegistryPath>(sdk::reg::CallRegistryPath{path}));
  fake_->answer_path = "{not json";
  auto nse = MakeNse("nse-1", {"icmp"}, "tcp://10.0.0.1:5001");
  ASSERT_TRUE(chain_->Register(ctx, nse).ok());
  EXPECT_EQ(ctx.values().Get<sdk::reg::CallRegistryPath>()->path, path);
}

TEST_F(RegistryProxyTest, SigningFailureStopsTheCall) {
  Build(std::make_shared<FailingSigner>());
  sdk::Context ctx(clock_);
  auto nse = MakeNse("nse-1", {"icmp"}, "tcp://10.0.0.1:5001");
  auto status = chain_->Register(ctx, nse).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find("identity expired"), std::string::npos);
  EXPECT_EQ(fake_->calls, 0);
}

}  // namespace
}  // namespace nsmcert::nsmgr
