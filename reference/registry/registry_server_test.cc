// The assembled registry chains, in process, on a fake clock: what the element order guarantees
// (bad input never reaches the store, expiry passes through begin and set_registration_time,
// identities are checked before anything is kept).
#include "reference/registry/registry_server.h"

#include <gtest/gtest.h>

#include <thread>

#include "reference/sdk/registry/testing.h"

namespace nsmcert::registryd {
namespace {

using registry::NetworkService;
using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using sdk::Context;
using sdk::FakeClock;
using sdk::reg::testing::AddPeerToken;
using sdk::reg::testing::EventNames;
using sdk::reg::testing::MakeNse;
using sdk::reg::testing::NseCollectingSink;
using sdk::reg::testing::SignerFor;

constexpr char kRegistry[] = "spiffe://test.com/registry";
constexpr char kAlice[] = "spiffe://test.com/alice";
constexpr char kBob[] = "spiffe://test.com/bob";

class RegistryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistryOptions options;
    options.token_signer = SignerFor(kRegistry, clock_);
    options.default_expiration = absl::Seconds(60);
    options.clock = &clock_;
    server_ = *RegistryServer::Create(std::move(options));
  }
  absl::StatusOr<NetworkServiceEndpoint> Register(NetworkServiceEndpoint nse,
                                                  const std::string& identity = kAlice) {
    Context ctx(clock_);
    if (!identity.empty()) AddPeerToken(ctx, identity, clock_.Now() + absl::Minutes(10));
    return server_->nse_chain()->Register(ctx, nse);
  }

  FakeClock clock_;
  std::unique_ptr<RegistryServer> server_;
};

TEST(RegistryServer, NeedsATokenSigner) {
  EXPECT_EQ(RegistryServer::Create(RegistryOptions()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryServerTest, RegisterFillsTimesAndPathIds) {
  auto reply = Register(MakeNse("nse-1", {"icmp"}, "tcp://10.0.0.1:5001"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->expiration_time().seconds(), absl::ToUnixSeconds(clock_.Now()) + 60);
  EXPECT_EQ(reply->initial_registration_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  ASSERT_EQ(reply->path_ids_size(), 2);
  EXPECT_EQ(reply->path_ids(0), kAlice);
  EXPECT_EQ(reply->path_ids(1), kRegistry);
  EXPECT_EQ(server_->nse_store().size(), 1u);
}

TEST_F(RegistryServerTest, BadInputNeverReachesTheStore) {
  EXPECT_EQ(Register(MakeNse("nse", {}, "ftp://x")).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Register(MakeNse("")).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(server_->nse_store().size(), 0u);
}

TEST_F(RegistryServerTest, AnotherIdentityIsRefusedBeforeAnythingIsKept) {
  ASSERT_TRUE(Register(MakeNse("nse-1", {}, "tcp://10.0.0.1:1")).ok());
  EXPECT_EQ(Register(MakeNse("nse-1", {}, "tcp://10.6.6.6:1"), kBob).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(server_->nse_store().Get("nse-1")->url(), "tcp://10.0.0.1:1");
}

TEST_F(RegistryServerTest, ExpiryRemovesTellsWatchersAndForgetsTheRegistrationTime) {
  auto first = Register(MakeNse("nse-1", {"icmp"}));
  ASSERT_TRUE(first.ok());
  Context watch_ctx(clock_);
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  NseCollectingSink sink;
  std::thread watcher(
      [&] { EXPECT_TRUE(server_->nse_chain()->Find(watch_ctx, query, sink).ok()); });
  ASSERT_TRUE(sink.WaitFor(1));
  clock_.Advance(absl::Seconds(60));
  ASSERT_TRUE(sink.WaitFor(2));
  watch_ctx.Cancel();
  watcher.join();
  EXPECT_EQ(EventNames(sink.received()), (std::vector<std::string>{"nse-1", "-nse-1"}));
  EXPECT_EQ(server_->nse_store().size(), 0u);

  // A new registration of the name is a first registration again.
  clock_.Advance(absl::Seconds(5));
  auto again = Register(MakeNse("nse-1", {"icmp"}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->initial_registration_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
}

TEST_F(RegistryServerTest, NetworkServicesGetIpAndDoNotExpire) {
  Context ctx(clock_);
  NetworkService ns;
  ns.set_name("icmp");
  auto reply = server_->ns_chain()->Register(ctx, ns);
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->payload(), "IP");
  EXPECT_EQ(reply->path_ids_size(), 2);
  clock_.Advance(absl::Hours(1));
  EXPECT_TRUE(server_->ns_store().Get("icmp").has_value());
}

}  // namespace
}  // namespace nsmcert::registryd
