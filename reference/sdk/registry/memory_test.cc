#include "reference/sdk/registry/memory.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"
#include "reference/sdk/registry/testing.h"

namespace nsmcert::sdk::reg {
namespace {

using registry::NetworkService;
using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using registry::NetworkServiceQuery;
using testing::EventNames;
using testing::MakeNse;
using testing::NseCollectingSink;

NetworkServiceEndpoint Labelled(const std::string& name, const std::string& service,
                                std::map<std::string, std::string> labels) {
  NetworkServiceEndpoint nse = MakeNse(name, {service});
  auto& l = (*nse.mutable_network_service_labels())[service];
  for (auto& [k, v] : labels) (*l.mutable_labels())[k] = v;
  return nse;
}

class MemoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto chain = NseRegistryChain::Make({store_});
    ASSERT_TRUE(chain.ok());
    chain_ = *chain;
  }
  void Register(NetworkServiceEndpoint nse) {
    Context ctx;
    ASSERT_TRUE(chain_->Register(ctx, nse).ok());
  }
  void Unregister(const std::string& name) {
    Context ctx;
    NetworkServiceEndpoint nse = MakeNse(name);
    ASSERT_TRUE(chain_->Unregister(ctx, nse).ok());
  }
  std::vector<std::string> Find(NetworkServiceEndpoint query_nse) {
    Context ctx;
    NetworkServiceEndpointQuery query;
    *query.mutable_network_service_endpoint() = std::move(query_nse);
    NseCollectingSink sink;
    EXPECT_TRUE(chain_->Find(ctx, query, sink).ok());
    return EventNames(sink.received());
  }

  std::shared_ptr<NseMemory> store_ = std::make_shared<NseMemory>();
  std::shared_ptr<NseRegistryChain> chain_;
};

TEST_F(MemoryTest, RegisterStoresByNameAndARefreshOverwrites) {
  Register(MakeNse("a", {"s"}, "tcp://1.1.1.1:1"));
  Register(MakeNse("a", {"s"}, "tcp://2.2.2.2:2"));
  ASSERT_EQ(store_->size(), 1u);
  EXPECT_EQ(store_->Get("a")->url(), "tcp://2.2.2.2:2");
  EXPECT_FALSE(store_->Get("b").has_value());
}

TEST_F(MemoryTest, NonWatchFindSendsMatchesInNameOrderAndEnds) {
  Register(MakeNse("c", {"s1"}));
  Register(MakeNse("a", {"s1", "s2"}));
  Register(MakeNse("b", {"s2"}));
  EXPECT_EQ(Find(MakeNse("")), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Find(MakeNse("", {"s2"})), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Find(MakeNse("b")), std::vector<std::string>{"b"});
  EXPECT_EQ(Find(MakeNse("zzz")), std::vector<std::string>{});
}

TEST_F(MemoryTest, FindFiltersByLabelsAndUrlAsUpstream) {
  Register(Labelled("red", "svc", {{"color", "red"}, {"node", "n1"}}));
  NetworkServiceEndpoint blue = Labelled("blue", "svc", {{"color", "blue"}});
  blue.set_url("tcp://10.0.0.2:5001");
  Register(blue);
  EXPECT_EQ(Find(Labelled("", "svc", {{"color", "red"}})), std::vector<std::string>{"red"});
  EXPECT_EQ(Find(Labelled("", "svc", {})), (std::vector<std::string>{"blue", "red"}));
  EXPECT_EQ(Find(MakeNse("", {}, "10.0.0.2")), std::vector<std::string>{"blue"});
}

TEST_F(MemoryTest, UnregisterRemovesAndUnknownNamesAreFine) {
  Register(MakeNse("a"));
  Unregister("a");
  Unregister("never-registered");
  EXPECT_EQ(store_->size(), 0u);
}

TEST_F(MemoryTest, ASinkErrorEndsANonWatchFind) {
  Register(MakeNse("a"));
  Register(MakeNse("b"));
  Context ctx;
  int sent = 0;
  FunctionSink<registry::NetworkServiceEndpointResponse> sink([&](const auto&) {
    ++sent;
    return absl::UnavailableError("gone");
  });
  EXPECT_EQ(chain_->Find(ctx, NetworkServiceEndpointQuery(), sink).code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(sent, 1);
}

TEST_F(MemoryTest, WatchSendsCurrentMatchesThenChangesInOrderUntilCancelled) {
  Register(MakeNse("a", {"svc"}));
  Register(MakeNse("other", {"different"}));
  Context ctx;
  NetworkServiceEndpointQuery query;
  *query.mutable_network_service_endpoint() = MakeNse("", {"svc"});
  query.set_watch(true);
  NseCollectingSink sink;
  absl::Status result = absl::UnknownError("running");
  std::thread watcher([&] { result = chain_->Find(ctx, query, sink); });
  ASSERT_TRUE(sink.WaitFor(1));

  Register(MakeNse("b", {"svc"}));
  Register(MakeNse("ignored", {"different"}));
  Register(MakeNse("a", {"svc"}, "tcp://refreshed:1"));
  Unregister("b");
  Unregister("ignored");
  ASSERT_TRUE(sink.WaitFor(4));
  ctx.Cancel();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result;
  auto events = sink.received();
  EXPECT_EQ(EventNames(events), (std::vector<std::string>{"a", "b", "a", "-b"}));
  EXPECT_EQ(events[2].network_service_endpoint().url(), "tcp://refreshed:1");
  // The deleted event carries the last stored value.
  EXPECT_EQ(events[3].network_service_endpoint().network_service_names(0), "svc");
  EXPECT_EQ(store_->watchers(), 0u);
}

TEST_F(MemoryTest, WatchEndsAtItsDeadline) {
  FakeClock clock;
  Context ctx(clock);
  ctx.set_deadline(clock.Now() + absl::Seconds(1));
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  NseCollectingSink sink;
  absl::Status result = absl::UnknownError("running");
  std::thread watcher([&] { result = chain_->Find(ctx, query, sink); });
  clock.Advance(absl::Seconds(2));
  watcher.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kDeadlineExceeded);
}

// A watch that neither has a deadline nor a cancel probe does not poll: it wakes for changes and
// for Cancel() alone, promptly even with an hour-long poll interval.
TEST(MemoryWatch, WithoutProbeOrDeadlineWakesForChangesAndCancelWithoutPolling) {
  auto store = std::make_shared<NseMemory>(MemoryOptions{.cancel_poll_interval = absl::Hours(1)});
  auto chain = NseRegistryChain::Make({store});
  ASSERT_TRUE(chain.ok());
  Context ctx;
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  NseCollectingSink sink;
  absl::Status result = absl::UnknownError("running");
  absl::Time returned;
  std::thread watcher([&] {
    result = (*chain)->Find(ctx, query, sink);
    returned = absl::Now();
  });
  for (int i = 0; i < 500 && store->watchers() == 0; ++i) absl::SleepFor(absl::Milliseconds(2));
  ASSERT_EQ(store->watchers(), 1u);
  Context register_ctx;
  NetworkServiceEndpoint nse = MakeNse("a", {"svc"});
  ASSERT_TRUE((*chain)->Register(register_ctx, nse).ok());
  ASSERT_TRUE(sink.WaitFor(1));
  absl::Time cancelled = absl::Now();
  ctx.Cancel();
  watcher.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_LT(returned - cancelled, absl::Milliseconds(100));
  EXPECT_EQ(store->watchers(), 0u);
}

// A server-side context's cancellation is only seen through its probe, which is still polled.
TEST(MemoryWatch, AProbeIsStillPolled) {
  auto store =
      std::make_shared<NseMemory>(MemoryOptions{.cancel_poll_interval = absl::Milliseconds(5)});
  auto chain = NseRegistryChain::Make({store});
  ASSERT_TRUE(chain.ok());
  Context ctx;
  std::atomic<bool> gone = false;
  ctx.set_cancel_probe([&] { return gone.load(); });
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  NseCollectingSink sink;
  absl::Status result = absl::UnknownError("running");
  std::thread watcher([&] { result = (*chain)->Find(ctx, query, sink); });
  for (int i = 0; i < 500 && store->watchers() == 0; ++i) absl::SleepFor(absl::Milliseconds(2));
  ASSERT_EQ(store->watchers(), 1u);
  gone = true;
  watcher.join();
  EXPECT_TRUE(result.ok()) << result;
}

// A sink that blocks its first Send until released, to make a watcher fall behind.
class BlockingSink : public FindSink<registry::NetworkServiceEndpointResponse> {
 public:
  absl::Status Send(const registry::NetworkServiceEndpointResponse&) override {
    std::unique_lock lock(mu_);
    ++calls_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return released_; });
    return absl::OkStatus();
  }
  void WaitBlocked() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return calls_ > 0; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int calls_ = 0;
  bool released_ = false;
};

TEST(Memory, ASlowWatcherIsEndedInsteadOfBlockingTheStore) {
  auto store = std::make_shared<NseMemory>(MemoryOptions{.max_watch_backlog = 3});
  auto chain = *NseRegistryChain::Make({store});
  Context setup;
  NetworkServiceEndpoint first = MakeNse("first");
  ASSERT_TRUE(chain->Register(setup, first).ok());

  Context ctx;
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  BlockingSink sink;
  absl::Status result;
  std::thread watcher([&] { result = chain->Find(ctx, query, sink); });
  sink.WaitBlocked();
  for (int i = 0; i < 10; ++i) {
    NetworkServiceEndpoint nse = MakeNse("n" + std::to_string(i));
    ASSERT_TRUE(chain->Register(setup, nse).ok());  // never blocks on the watcher
  }
  sink.Release();
  watcher.join();
  EXPECT_EQ(result.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(store->size(), 11u);
}

TEST(NsMemory, StoresFindsWatchesAndDeletes) {
  auto store = std::make_shared<NsMemory>();
  auto chain = *NsRegistryChain::Make({store});
  Context ctx;
  NetworkService ns;
  ns.set_name("icmp");
  ns.set_payload("IP");
  ASSERT_TRUE(chain->Register(ctx, ns).ok());

  Context watch_ctx;
  NetworkServiceQuery query;
  query.mutable_network_service()->set_payload("IP");
  query.set_watch(true);
  testing::NsCollectingSink sink;
  std::thread watcher([&] { EXPECT_TRUE(chain->Find(watch_ctx, query, sink).ok()); });
  ASSERT_TRUE(sink.WaitFor(1));
  ASSERT_TRUE(chain->Unregister(ctx, ns).ok());
  ASSERT_TRUE(sink.WaitFor(2));
  watch_ctx.Cancel();
  watcher.join();
  auto events = sink.received();
  EXPECT_FALSE(events[0].deleted());
  EXPECT_TRUE(events[1].deleted());
  EXPECT_EQ(events[1].network_service().name(), "icmp");
  EXPECT_EQ(store->size(), 0u);
}

}  // namespace
}  // namespace nsmcert::sdk::reg
