#include "reference/nsmgr/local_bypass.h"

#include <gtest/gtest.h>

#include <thread>

#include "reference/sdk/registry/memory.h"
#include "reference/sdk/registry/testing.h"

namespace nsmcert::nsmgr {
namespace {

using sdk::reg::testing::MakeNse;
using sdk::reg::testing::NseCollectingSink;

constexpr char kOwnUrl[] = "tcp://10.0.0.1:5001";

// Fails the next Register or Unregister it sees, once.
class FailOnce : public sdk::NseRegistryElement {
 public:
  absl::StatusOr<registry::NetworkServiceEndpoint> Register(
      sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
      const sdk::NseRegistryNext& next) override {
    if (fail_) {
      fail_ = false;
      return absl::UnavailableError("registry down");
    }
    return next.Register(ctx, nse);
  }
  absl::Status Unregister(sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const sdk::NseRegistryNext& next) override {
    if (fail_) {
      fail_ = false;
      return absl::UnavailableError("registry down");
    }
    return next.Unregister(ctx, nse);
  }
  bool fail_ = false;
};

class LocalBypassTest : public ::testing::Test {
 protected:
  std::vector<registry::NetworkServiceEndpoint> Find(
      const registry::NetworkServiceEndpointQuery& query) {
    NseCollectingSink sink;
    sdk::Context ctx;
    EXPECT_TRUE(chain_->Find(ctx, query, sink).ok());
    std::vector<registry::NetworkServiceEndpoint> found;
    for (const auto& r : sink.received()) found.push_back(r.network_service_endpoint());
    return found;
  }
  std::vector<registry::NetworkServiceEndpoint> FindAll() { return Find({}); }

  std::shared_ptr<OwnUrl> own_url_ = std::make_shared<OwnUrl>(kOwnUrl);
  std::shared_ptr<LocalBypass> bypass_ = std::make_shared<LocalBypass>(own_url_);
  std::shared_ptr<FailOnce> fail_ = std::make_shared<FailOnce>();
  std::shared_ptr<sdk::reg::NseMemory> store_ = std::make_shared<sdk::reg::NseMemory>();
  std::shared_ptr<sdk::NseRegistryChain> chain_ =
      *sdk::NseRegistryChain::Make({bypass_, fail_, store_});
  sdk::Context ctx_;
};

TEST_F(LocalBypassTest, RegistrySeesOwnUrlCallerGetsRealUrl) {
  auto nse = MakeNse("nse-1", {"icmp"}, "unix:///run/nse-1.sock");
  auto registered = chain_->Register(ctx_, nse);
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->url(), "unix:///run/nse-1.sock");
  EXPECT_EQ(store_->Get("nse-1")->url(), kOwnUrl);
  EXPECT_EQ(bypass_->LocalUrl("nse-1"), "unix:///run/nse-1.sock");

  // Found by the own URL (as forwarder discovery queries), returned with the real one.
  registry::NetworkServiceEndpointQuery by_url;
  by_url.mutable_network_service_endpoint()->set_url(kOwnUrl);
  auto found = Find(by_url);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].url(), "unix:///run/nse-1.sock");
}

TEST_F(LocalBypassTest, RemoteEntriesPassUnchangedStaleOwnEntriesAreHidden) {
  sdk::Context ctx;
  auto remote = MakeNse("remote", {"icmp"}, "tcp://10.0.0.2:5001");
  auto stale = MakeNse("stale", {"icmp"}, kOwnUrl);  // an earlier run of this nsmgr registered it
  ASSERT_TRUE(store_->Register(ctx, remote, sdk::NseRegistryNext()).ok());
  ASSERT_TRUE(store_->Register(ctx, stale, sdk::NseRegistryNext()).ok());
  auto local = MakeNse("local", {"icmp"}, "unix:///run/local.sock");
  ASSERT_TRUE(chain_->Register(ctx_, local).ok());

  auto found = FindAll();
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name(), "local");
  EXPECT_EQ(found[0].url(), "unix:///run/local.sock");
  EXPECT_EQ(found[1].name(), "remote");
  EXPECT_EQ(found[1].url(), "tcp://10.0.0.2:5001");
}

TEST_F(LocalBypassTest, DeletionsOfUnknownOwnEntriesStillGoOut) {
  sdk::Context ctx;
  auto stale = MakeNse("stale", {"icmp"}, kOwnUrl);
  ASSERT_TRUE(store_->Register(ctx, stale, sdk::NseRegistryNext()).ok());

  NseCollectingSink sink;
  sdk::Context watch_ctx;
  registry::NetworkServiceEndpointQuery query;
  query.set_watch(true);
  std::thread watcher([&] { (void)chain_->Find(watch_ctx, query, sink); });
  // The stale entry is not announced; a local registration is, with its real URL; the stale
  // entry's deletion is.
  auto local = MakeNse("local", {"icmp"}, "unix:///run/local.sock");
  while (store_->watchers() == 0) std::this_thread::yield();
  ASSERT_TRUE(chain_->Register(ctx_, local).ok());
  ASSERT_TRUE(store_->Unregister(ctx, stale, sdk::NseRegistryNext()).ok());
  ASSERT_TRUE(sink.WaitFor(2));
  watch_ctx.Cancel();
  watcher.join();
  auto events = sink.received();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].network_service_endpoint().name(), "local");
  EXPECT_EQ(events[0].network_service_endpoint().url(), "unix:///run/local.sock");
  EXPECT_EQ(events[1].network_service_endpoint().name(), "stale");
  EXPECT_TRUE(events[1].deleted());
}

TEST_F(LocalBypassTest, RefusesRegistrationWithoutUrlOrOwnUrl) {
  auto no_url = MakeNse("nse-1", {"icmp"});
  auto status = chain_->Register(ctx_, no_url).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("network_service_endpoint.url"), std::string::npos) << status;

  own_url_->Set("");
  auto nse = MakeNse("nse-1", {"icmp"}, "unix:///run/nse-1.sock");
  EXPECT_EQ(chain_->Register(ctx_, nse).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(store_->size(), 0u);
  EXPECT_EQ(bypass_->size(), 0u);
}

TEST_F(LocalBypassTest, FailedFirstRegistrationForgetsFailedRefreshKeeps) {
  auto nse = MakeNse("nse-1", {"icmp"}, "unix:///run/a.sock");
  fail_->fail_ = true;
  EXPECT_FALSE(chain_->Register(ctx_, nse).ok());
  EXPECT_FALSE(bypass_->LocalUrl("nse-1").has_value());

  ASSERT_TRUE(chain_->Register(ctx_, nse).ok());
  auto moved = MakeNse("nse-1", {"icmp"}, "unix:///run/b.sock");
  fail_->fail_ = true;
  EXPECT_FALSE(chain_->Register(ctx_, moved).ok());
  EXPECT_EQ(bypass_->LocalUrl("nse-1"), "unix:///run/a.sock");
  ASSERT_TRUE(chain_->Register(ctx_, moved).ok());
  EXPECT_EQ(bypass_->LocalUrl("nse-1"), "unix:///run/b.sock");
}

TEST_F(LocalBypassTest, UnregisterKnownGoesOnWithOwnUrlUnknownStaysHere) {
  auto nse = MakeNse("nse-1", {"icmp"}, "unix:///run/nse-1.sock");
  ASSERT_TRUE(chain_->Register(ctx_, nse).ok());

  // Not registered here: nothing goes upstream.
  sdk::Context ctx;
  auto other = MakeNse("other", {"icmp"}, "tcp://10.0.0.2:5001");
  ASSERT_TRUE(store_->Register(ctx, other, sdk::NseRegistryNext()).ok());
  EXPECT_TRUE(chain_->Unregister(ctx_, other).ok());
  EXPECT_TRUE(store_->Get("other").has_value());

  // A failed unregistration keeps the name.
  fail_->fail_ = true;
  EXPECT_FALSE(chain_->Unregister(ctx_, nse).ok());
  EXPECT_TRUE(bypass_->LocalUrl("nse-1").has_value());
  EXPECT_EQ(nse.url(), "unix:///run/nse-1.sock");

  EXPECT_TRUE(chain_->Unregister(ctx_, nse).ok());
  EXPECT_FALSE(store_->Get("nse-1").has_value());
  EXPECT_FALSE(bypass_->LocalUrl("nse-1").has_value());
}

}  // namespace
}  // namespace nsmcert::nsmgr
