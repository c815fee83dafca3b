#include "reference/sdk/registry/begin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "reference/sdk/registry/testing.h"

namespace nsmcert::sdk::reg {
namespace {

using registry::NetworkServiceEndpoint;
using testing::MakeNse;

// Records calls; Register of a name listed in `hold` blocks until Open() is called. Keeps the
// last event factory it saw.
class Gate : public NseRegistryElement {
 public:
  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    {
      std::unique_lock lock(mu_);
      log_.push_back("register " + nse.name());
      factory_ = ctx.values().Get<NseEventFactory>();
      ++inside_;
      max_inside_ = std::max(max_inside_, inside_);
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_ || nse.name() != hold_; });
      --inside_;
    }
    return next.Register(ctx, nse);
  }
  absl::Status Unregister(Context& ctx, NetworkServiceEndpoint& nse,
                          const NseRegistryNext& next) override {
    std::lock_guard lock(mu_);
    log_.push_back("unregister " + nse.name());
    return next.Unregister(ctx, nse);
  }
  void Hold(std::string name) {
    std::lock_guard lock(mu_);
    hold_ = std::move(name);
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool WaitInside(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] { return inside_ >= n; });
  }
  std::vector<std::string> log() {
    std::lock_guard lock(mu_);
    return log_;
  }
  int max_inside() {
    std::lock_guard lock(mu_);
    return max_inside_;
  }
  std::shared_ptr<NseEventFactory> factory() {
    std::lock_guard lock(mu_);
    return factory_;
  }
  // A kept factory holds the chain, and this element is in it: drop it to free the chain.
  void ForgetFactory() {
    std::lock_guard lock(mu_);
    factory_.reset();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> log_;
  std::string hold_;
  bool open_ = false;
  int inside_ = 0;
  int max_inside_ = 0;
  std::shared_ptr<NseEventFactory> factory_;
};

class BeginTest : public ::testing::Test {
 protected:
  void SetUp() override { chain_ = *NseRegistryChain::Make({begin_, gate_}); }
  void TearDown() override { gate_->ForgetFactory(); }
  std::shared_ptr<NseBegin> begin_ = std::make_shared<NseBegin>();
  std::shared_ptr<Gate> gate_ = std::make_shared<Gate>();
  std::shared_ptr<NseRegistryChain> chain_;
};

TEST_F(BeginTest, EmptyNameIsInvalid) {
  Context ctx;
  NetworkServiceEndpoint nse;
  auto result = chain_->Register(ctx, nse);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("network_service_endpoint.name"), std::string::npos);
}

TEST_F(BeginTest, EventsOfOneNameRunOneAtATimeOtherNamesDoNotWait) {
  gate_->Hold("a");
  std::thread first([&] {
    Context ctx;
    auto nse = MakeNse("a");
    EXPECT_TRUE(chain_->Register(ctx, nse).ok());
  });
  ASSERT_TRUE(gate_->WaitInside(1));
  std::thread second([&] {
    Context ctx;
    auto nse = MakeNse("a");
    EXPECT_TRUE(chain_->Register(ctx, nse).ok());
  });
  // Another name passes while "a" is held.
  Context ctx;
  auto b = MakeNse("b");
  EXPECT_TRUE(chain_->Register(ctx, b).ok());
  absl::SleepFor(absl::Milliseconds(50));  // give a wrongly unserialised second call a chance
  EXPECT_EQ(gate_->log(), (std::vector<std::string>{"register a", "register b"}));
  gate_->Open();
  first.join();
  second.join();
  EXPECT_EQ(gate_->log().size(), 3u);
  EXPECT_EQ(begin_->busy_names(), 0u);
}

TEST_F(BeginTest, TheFactoryRunsAnUnregisterThroughTheElementsAfterBegin) {
  Context ctx;
  auto nse = MakeNse("a");
  ASSERT_TRUE(chain_->Register(ctx, nse).ok());
  auto factory = gate_->factory();
  ASSERT_NE(factory, nullptr);
  EXPECT_EQ(factory->name(), "a");

  Context later;
  EXPECT_TRUE(factory->Unregister(later, nse, [] { return false; }).ok());
  EXPECT_EQ(gate_->log(), std::vector<std::string>{"register a"});  // stale: nothing ran
  EXPECT_TRUE(factory->Unregister(later, nse).ok());
  EXPECT_EQ(gate_->log(), (std::vector<std::string>{"register a", "unregister a"}));
  EXPECT_EQ(begin_->busy_names(), 0u);
}

TEST_F(BeginTest, AFactoryEventWaitsForTheNameToBeFree) {
  Context ctx;
  auto nse = MakeNse("a");
  ASSERT_TRUE(chain_->Register(ctx, nse).ok());
  auto factory = gate_->factory();
  gate_->Hold("a");
  std::thread refresh([&] {
    Context c;
    auto again = MakeNse("a");
    EXPECT_TRUE(chain_->Register(c, again).ok());
  });
  ASSERT_TRUE(gate_->WaitInside(1));
  std::atomic<bool> unregistered{false};
  std::thread expiry([&] {
    Context c;
    EXPECT_TRUE(factory->Unregister(c, nse).ok());
    unregistered = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(unregistered);
  gate_->Open();
  refresh.join();
  expiry.join();
  EXPECT_EQ(gate_->log(), (std::vector<std::string>{"register a", "register a", "unregister a"}));
}

TEST(NsBegin, SerialisesNetworkServicesToo) {
  auto chain = *NsRegistryChain::Make({std::make_shared<NsBegin>()});
  Context ctx;
  registry::NetworkService ns;
  EXPECT_EQ(chain->Register(ctx, ns).status().code(), absl::StatusCode::kInvalidArgument);
  ns.set_name("icmp");
  EXPECT_TRUE(chain->Register(ctx, ns).ok());
  EXPECT_TRUE(chain->Unregister(ctx, ns).ok());
}

}  // namespace
}  // namespace nsmcert::sdk::reg
