#include "reference/sdk/registry/expire.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include <thread>

#include "reference/sdk/registry/begin.h"
#include "reference/sdk/registry/call_values.h"
#include "reference/sdk/registry/memory.h"
#include "reference/sdk/registry/set_registration_time.h"
#include "reference/sdk/registry/testing.h"

namespace nsmcert::sdk::reg {
namespace {

using google::protobuf::util::TimeUtil;
using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using testing::EventNames;
using testing::MakeNse;

absl::Time AsTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(TimeUtil::TimestampToNanoseconds(t));
}

// Fails Register while `fail` is set.
class Failer : public NseRegistryElement {
 public:
  bool fail = false;
  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    if (fail) return absl::InternalError("injected");
    return next.Register(ctx, nse);
  }
};

class ExpireTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chain_ = *NseRegistryChain::Make({begin_, regtime_, expire_, failer_, store_});
  }
  void TearDown() override { expire_->StopAll(); }

  absl::StatusOr<NetworkServiceEndpoint> Register(NetworkServiceEndpoint nse) {
    Context ctx(clock_);
    return chain_->Register(ctx, nse);
  }
  bool Stored(const std::string& name) { return store_->Get(name).has_value(); }

  FakeClock clock_;
  std::shared_ptr<NseBegin> begin_ = std::make_shared<NseBegin>();
  std::shared_ptr<SetRegistrationTime> regtime_ = std::make_shared<SetRegistrationTime>();
  std::shared_ptr<Expire> expire_ = std::make_shared<Expire>(absl::Minutes(1));
  std::shared_ptr<Failer> failer_ = std::make_shared<Failer>();
  std::shared_ptr<NseMemory> store_ = std::make_shared<NseMemory>();
  std::shared_ptr<NseRegistryChain> chain_;
};

TEST_F(ExpireTest, RegisterFillsTheDefaultExpirationAndTheEntryGoesWhenItPasses) {
  absl::Time start = clock_.Now();
  auto reply = Register(MakeNse("nse-1"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(AsTime(reply->expiration_time()), start + absl::Minutes(1));
  EXPECT_EQ(AsTime(store_->Get("nse-1")->expiration_time()), start + absl::Minutes(1));

  clock_.Advance(absl::Seconds(59));
  EXPECT_TRUE(Stored("nse-1"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(Stored("nse-1"));
  EXPECT_EQ(expire_->pending(), 0u);
  // The expiry went through the elements after begin: the registration time is forgotten too.
  EXPECT_EQ(regtime_->size(), 0u);
  EXPECT_EQ(begin_->busy_names(), 0u);
}

TEST_F(ExpireTest, WatchersAreToldWithDeletedOnExpiry) {
  ASSERT_TRUE(Register(MakeNse("nse-1")).ok());
  Context watch_ctx(clock_);
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  testing::NseCollectingSink sink;
  std::thread watcher([&] { EXPECT_TRUE(chain_->Find(watch_ctx, query, sink).ok()); });
  ASSERT_TRUE(sink.WaitFor(1));
  clock_.Advance(absl::Minutes(2));
  ASSERT_TRUE(sink.WaitFor(2));
  watch_ctx.Cancel();
  watcher.join();
  EXPECT_EQ(EventNames(sink.received()), (std::vector<std::string>{"nse-1", "-nse-1"}));
}

TEST_F(ExpireTest, ARefreshBeforeExpiryMovesItForwardAndKeepsTheInitialTime) {
  absl::Time start = clock_.Now();
  auto first = Register(MakeNse("nse-1"));
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Seconds(40));
  NetworkServiceEndpoint refresh = *first;
  refresh.clear_expiration_time();  // as upstream clients refresh
  auto second = Register(refresh);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(AsTime(second->expiration_time()), start + absl::Seconds(100));
  EXPECT_EQ(AsTime(second->initial_registration_time()), start);
  clock_.Advance(absl::Seconds(59));  // t = 99 s: past the first expiration
  EXPECT_TRUE(Stored("nse-1"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(Stored("nse-1"));
}

TEST_F(ExpireTest, EchoingTheOldExpirationPinsIt) {
  absl::Time start = clock_.Now();
  auto first = Register(MakeNse("nse-1"));
  ASSERT_TRUE(first.ok());
  clock_.Advance(absl::Seconds(40));
  auto second = Register(*first);  // every hop only lowers the expiration
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(AsTime(second->expiration_time()), start + absl::Minutes(1));
}

TEST_F(ExpireTest, TheEarliestBoundWins) {
  absl::Time now = clock_.Now();
  NetworkServiceEndpoint early = MakeNse("early");
  *early.mutable_expiration_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(now) + 10);
  auto reply = Register(early);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(AsTime(reply->expiration_time()), now + absl::Seconds(10));

  NetworkServiceEndpoint late = MakeNse("late");
  *late.mutable_expiration_time() = TimeUtil::SecondsToTimestamp(absl::ToUnixSeconds(now) + 3600);
  reply = Register(late);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(AsTime(reply->expiration_time()), now + absl::Minutes(1));

  Context ctx(clock_);
  ctx.values().Set(std::make_shared<CallTokenExpiry>(
      CallTokenExpiry{.own = now + absl::Seconds(30), .peer = now + absl::Seconds(5)}));
  NetworkServiceEndpoint tokened = MakeNse("tokened");
  auto bounded = chain_->Register(ctx, tokened);
  ASSERT_TRUE(bounded.ok());
  EXPECT_EQ(AsTime(bounded->expiration_time()), now + absl::Seconds(5));

  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(Stored("tokened"));
  EXPECT_TRUE(Stored("early"));
  clock_.Advance(absl::Seconds(5));
  EXPECT_FALSE(Stored("early"));
  EXPECT_TRUE(Stored("late"));
}

TEST_F(ExpireTest, TheRequestDeadlineIsSubtractedFromTheTimer) {
  Context ctx(clock_);
  ctx.set_deadline(clock_.Now() + absl::Seconds(15));
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  ASSERT_TRUE(chain_->Register(ctx, nse).ok());
  clock_.Advance(absl::Seconds(44));
  EXPECT_TRUE(Stored("nse-1"));
  clock_.Advance(absl::Seconds(1));
  EXPECT_FALSE(Stored("nse-1"));
}

TEST_F(ExpireTest, UnregisterCancelsTheTimer) {
  ASSERT_TRUE(Register(MakeNse("nse-1")).ok());
  EXPECT_EQ(clock_.PendingTimers(), 1);
  Context ctx(clock_);
  NetworkServiceEndpoint nse = MakeNse("nse-1");
  ASSERT_TRUE(chain_->Unregister(ctx, nse).ok());
  EXPECT_EQ(expire_->pending(), 0u);
  EXPECT_EQ(clock_.PendingTimers(), 0);
}

TEST_F(ExpireTest, AFailedRefreshLeavesThePreviousTimer) {
  ASSERT_TRUE(Register(MakeNse("nse-1")).ok());
  clock_.Advance(absl::Seconds(30));
  failer_->fail = true;
  EXPECT_FALSE(Register(MakeNse("nse-1")).ok());
  failer_->fail = false;
  clock_.Advance(absl::Seconds(30));
  EXPECT_FALSE(Stored("nse-1"));
}

TEST_F(ExpireTest, StopAllCancelsEveryPendingExpiry) {
  ASSERT_TRUE(Register(MakeNse("a")).ok());
  ASSERT_TRUE(Register(MakeNse("b")).ok());
  expire_->StopAll();
  EXPECT_EQ(clock_.PendingTimers(), 0);
  clock_.Advance(absl::Minutes(5));
  EXPECT_TRUE(Stored("a") && Stored("b"));
}

TEST(Expire, WithoutBeginItUnregistersThroughTheElementsAfterIt) {
  FakeClock clock;
  auto expire = std::make_shared<Expire>(absl::Seconds(10));
  auto store = std::make_shared<NseMemory>();
  auto chain = *NseRegistryChain::Make({expire, store});
  Context ctx(clock);
  NetworkServiceEndpoint nse = MakeNse("a");
  ASSERT_TRUE(chain->Register(ctx, nse).ok());
  clock.Advance(absl::Seconds(10));
  EXPECT_EQ(store->size(), 0u);
  EXPECT_EQ(expire->pending(), 0u);
}

}  // namespace
}  // namespace nsmcert::sdk::reg
