#include "reference/sdk/registry/set_registration_time.h"

#include <google/protobuf/util/time_util.h>
#include <gtest/gtest.h>

#include "reference/sdk/registry/memory.h"
#include "reference/sdk/registry/testing.h"

namespace nsmcert::sdk::reg {
namespace {

using google::protobuf::util::TimeUtil;
using registry::NetworkServiceEndpoint;
using testing::MakeNse;

// Fails every Register while `fail` is set.
class Failer : public NseRegistryElement {
 public:
  bool fail = false;
  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    if (fail) return absl::InternalError("injected");
    return next.Register(ctx, nse);
  }
};

class SetRegistrationTimeTest : public ::testing::Test {
 protected:
  void SetUp() override { chain_ = *NseRegistryChain::Make({regtime_, failer_, store_}); }
  absl::StatusOr<NetworkServiceEndpoint> Register(NetworkServiceEndpoint nse) {
    Context ctx(clock_);
    return chain_->Register(ctx, nse);
  }
  int64_t NowSeconds() { return absl::ToUnixSeconds(clock_.Now()); }

  FakeClock clock_;
  std::shared_ptr<SetRegistrationTime> regtime_ = std::make_shared<SetRegistrationTime>();
  std::shared_ptr<Failer> failer_ = std::make_shared<Failer>();
  std::shared_ptr<NseMemory> store_ = std::make_shared<NseMemory>();
  std::shared_ptr<NseRegistryChain> chain_;
};

TEST_F(SetRegistrationTimeTest, FirstRegisterStampsNowAndRefreshesKeepIt) {
  int64_t start = NowSeconds();
  auto first = Register(MakeNse("nse"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->initial_registration_time().seconds(), start);
  EXPECT_EQ(store_->Get("nse")->initial_registration_time().seconds(), start);

  clock_.Advance(absl::Seconds(5));
  auto refresh = Register(*first);
  ASSERT_TRUE(refresh.ok());
  EXPECT_EQ(refresh->initial_registration_time().seconds(), start);

  // A refresh without the field, or with another value, still gets the first stamp.
  clock_.Advance(absl::Seconds(5));
  NetworkServiceEndpoint cleared = *first;
  cleared.clear_initial_registration_time();
  EXPECT_EQ(Register(cleared)->initial_registration_time().seconds(), start);
  NetworkServiceEndpoint forged = *first;
  *forged.mutable_initial_registration_time() = TimeUtil::SecondsToTimestamp(1);
  EXPECT_EQ(Register(forged)->initial_registration_time().seconds(), start);
}

TEST_F(SetRegistrationTimeTest, TheCallersStampIsTakenOnFirstRegistration) {
  NetworkServiceEndpoint nse = MakeNse("nse");
  *nse.mutable_initial_registration_time() = TimeUtil::SecondsToTimestamp(1234);
  EXPECT_EQ(Register(nse)->initial_registration_time().seconds(), 1234);
}

TEST_F(SetRegistrationTimeTest, AfterUnregisterANewRegistrationStartsAfresh) {
  ASSERT_TRUE(Register(MakeNse("nse")).ok());
  Context ctx(clock_);
  NetworkServiceEndpoint nse = MakeNse("nse");
  ASSERT_TRUE(chain_->Unregister(ctx, nse).ok());
  EXPECT_EQ(regtime_->size(), 0u);
  clock_.Advance(absl::Seconds(3));
  EXPECT_EQ(Register(MakeNse("nse"))->initial_registration_time().seconds(), NowSeconds());
}

TEST_F(SetRegistrationTimeTest, AFailedFirstRegistrationLeavesNothing) {
  failer_->fail = true;
  EXPECT_FALSE(Register(MakeNse("nse")).ok());
  EXPECT_EQ(regtime_->size(), 0u);
  failer_->fail = false;
  clock_.Advance(absl::Seconds(7));
  EXPECT_EQ(Register(MakeNse("nse"))->initial_registration_time().seconds(), NowSeconds());
}

}  // namespace
}  // namespace nsmcert::sdk::reg
