#include "reference/sdk/registry/call_preparation.h"

#include <gtest/gtest.h>

#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::sdk {
namespace {

// Records what reaches the wire: the context's URL and metadata; can fail.
class Wire : public sdk::NseRegistryElement {
 public:
  absl::StatusOr<registry::NetworkServiceEndpoint> Register(
      sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
      const sdk::NseRegistryNext& next) override {
    Record(ctx);
    if (!status.ok()) return status;
    return next.Register(ctx, nse);
  }
  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) override {
    Record(ctx);
    return status;
  }
  absl::Status Unregister(sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const sdk::NseRegistryNext& next) override {
    Record(ctx);
    return status;
  }
  void Record(sdk::Context& ctx) {
    auto url = ctx.values().Get<sdk::ClientUrl>();
    urls.push_back(url ? url->url : "");
    metadata.push_back(ctx.outgoing_metadata());
  }
  absl::Status status;
  std::vector<std::string> urls;
  std::vector<sdk::Metadata> metadata;
};

class FailingSigner : public sdk::tools::TokenSigner {
 public:
  absl::StatusOr<sdk::tools::Token> Sign(std::string_view) override {
    return absl::FailedPreconditionError("identity expired");
  }
};

constexpr char kNsmgr[] = "unix:///run/nsm/nsm.io.sock";

class RegistryCallPreparationTest : public ::testing::Test {
 protected:
  std::shared_ptr<sdk::NseRegistryChain> Chain(std::shared_ptr<sdk::tools::TokenSigner> signer) {
    return *sdk::NseRegistryChain::Make(
        {std::make_shared<RegistryCallPreparation<NseRegistryTypes>>(kNsmgr, signer, channels_),
         wire_});
  }
  std::string Single(const sdk::Metadata& metadata, std::string_view key) {
    EXPECT_EQ(metadata.count(std::string(key)), 1u) << key;
    auto it = metadata.find(std::string(key));
    return it == metadata.end() ? "" : it->second;
  }

  std::shared_ptr<sdk::tools::TokenSigner> signer_ = std::make_shared<sdk::tools::Hs256TokenSigner>(
      *sdk::tools::SpiffeId::Parse("spiffe://example.org/nse-1"), "secret");
  std::shared_ptr<sdk::ChannelPool> channels_ = std::make_shared<sdk::ChannelPool>();
  std::shared_ptr<Wire> wire_ = std::make_shared<Wire>();
};

TEST_F(RegistryCallPreparationTest, RegisterCarriesTokenAndPath) {
  auto chain = Chain(signer_);
  registry::NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  sdk::Context ctx;
  ASSERT_TRUE(chain->Register(ctx, nse).ok());
  ASSERT_EQ(wire_->urls.size(), 1u);
  EXPECT_EQ(wire_->urls[0], kNsmgr);
  const auto& metadata = wire_->metadata[0];
  const std::string token = Single(metadata, api::metadata::kClientToken);
  EXPECT_FALSE(Single(metadata, api::metadata::kClientTokenExpires).empty());
  auto path = sdk::tools::ParseRegistryPathJson(Single(metadata, api::metadata::kRegistryPath));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(path->index, 0u);
  ASSERT_EQ(path->tokens.size(), 1u);
  EXPECT_EQ(path->tokens[0], token);
}

TEST_F(RegistryCallPreparationTest, FindCarriesTheTokenOnly) {
  auto chain = Chain(signer_);
  registry::NetworkServiceEndpointQuery query;
  sdk::Context ctx;
  sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
      [](const auto&) { return absl::OkStatus(); });
  ASSERT_TRUE(chain->Find(ctx, query, sink).ok());
  EXPECT_EQ(wire_->metadata[0].count(std::string(api::metadata::kRegistryPath)), 0u);
  EXPECT_EQ(wire_->metadata[0].count(std::string(api::metadata::kClientToken)), 1u);
}

TEST_F(RegistryCallPreparationTest, ASigningErrorSendsNothing) {
  auto chain = Chain(std::make_shared<FailingSigner>());
  registry::NetworkServiceEndpoint nse;
  sdk::Context ctx;
  absl::Status status = chain->Unregister(ctx, nse);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(status.message().find(kNsmgr), std::string::npos) << status;
  EXPECT_TRUE(wire_->urls.empty());
}

TEST_F(RegistryCallPreparationTest, AnUnreachableNsmgrIsDialledAfresh) {
  auto chain = Chain(signer_);
  auto before = *channels_->Get(kNsmgr);
  wire_->status = absl::InvalidArgumentError("bad name");
  registry::NetworkServiceEndpoint nse;
  sdk::Context ctx;
  EXPECT_FALSE(chain->Register(ctx, nse).ok());
  EXPECT_EQ(before, *channels_->Get(kNsmgr));
  wire_->status = absl::UnavailableError("connection refused");
  EXPECT_FALSE(chain->Register(ctx, nse).ok());
  EXPECT_NE(before, *channels_->Get(kNsmgr));
}

TEST_F(RegistryCallPreparationTest, ADeadlineOnAChannelThatIsNotFailingKeepsIt) {
  auto chain = Chain(signer_);
  auto before = *channels_->Get(kNsmgr);  // never connected: IDLE
  wire_->status = absl::DeadlineExceededError("the nsmgr is busy");
  registry::NetworkServiceEndpoint nse;
  sdk::Context ctx;
  EXPECT_FALSE(chain->Register(ctx, nse).ok());
  EXPECT_EQ(before, *channels_->Get(kNsmgr));
}

}  // namespace
}  // namespace nsmcert::sdk
