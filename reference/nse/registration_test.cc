// Registration against fake registries on a fake clock: what is sent, when it is refreshed, how it
// heals and how it ends.
#include "reference/nse/registration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "reference/sdk/tools/go_time.h"

namespace nsmcert::nse {
namespace {

using registry::NetworkService;
using registry::NetworkServiceEndpoint;

bool WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// An endpoint registry that stamps expiration_time = now + 1 minute, keeps watches open until
// cancelled or broken by the test, and can fail registrations.
class FakeNseRegistry : public sdk::NseRegistryElement {
 public:
  explicit FakeNseRegistry(sdk::FakeClock& clock) : clock_(clock) {}

  absl::StatusOr<NetworkServiceEndpoint> Register(sdk::Context& ctx, NetworkServiceEndpoint& nse,
                                                  const sdk::NseRegistryNext& next) override {
    std::lock_guard lock(mu_);
    registers_.push_back(nse);
    if (failures_ > 0) {
      --failures_;
      return absl::UnavailableError("registry down");
    }
    NetworkServiceEndpoint out = nse;
    *out.mutable_expiration_time() = *sdk::tools::ToProtoTimestamp(clock_.Now() + absl::Minutes(1));
    if (!out.has_initial_registration_time()) {
      *out.mutable_initial_registration_time() = *sdk::tools::ToProtoTimestamp(clock_.Now());
    }
    out.add_path_ids("spiffe://example.org/registry");
    return out;
  }

  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) override {
    std::unique_lock lock(mu_);
    queries_.push_back(query);
    const int generation = breaks_;
    ++watching_;
    absl::Status result;
    for (;;) {
      if (ctx.cancelled()) break;
      if (breaks_ != generation) {
        result = absl::UnavailableError("stream broken");
        break;
      }
      if (deleted_pending_) {
        deleted_pending_ = false;
        registry::NetworkServiceEndpointResponse response;
        response.set_deleted(true);
        response.mutable_network_service_endpoint()->set_name(
            query.network_service_endpoint().name());
        lock.unlock();
        absl::Status sent = sink.Send(response);
        lock.lock();
        if (!sent.ok()) {
          result = sent;
          break;
        }
        continue;
      }
      cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    --watching_;
    return result;
  }

  absl::Status Unregister(sdk::Context& ctx, NetworkServiceEndpoint& nse,
                          const sdk::NseRegistryNext& next) override {
    std::lock_guard lock(mu_);
    unregisters_.push_back(nse);
    return absl::OkStatus();
  }

  void FailNext(int n) {
    std::lock_guard lock(mu_);
    failures_ = n;
  }
  void BreakWatches() {
    std::lock_guard lock(mu_);
    ++breaks_;
    cv_.notify_all();
  }
  void SendDeleted() {
    std::lock_guard lock(mu_);
    deleted_pending_ = true;
    cv_.notify_all();
  }
  int watching() const {
    std::lock_guard lock(mu_);
    return watching_;
  }
  std::vector<NetworkServiceEndpoint> registers() const {
    std::lock_guard lock(mu_);
    return registers_;
  }
  std::vector<NetworkServiceEndpoint> unregisters() const {
    std::lock_guard lock(mu_);
    return unregisters_;
  }
  std::vector<registry::NetworkServiceEndpointQuery> queries() const {
    std::lock_guard lock(mu_);
    return queries_;
  }

 private:
  sdk::FakeClock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int failures_ = 0;
  int breaks_ = 0;
  int watching_ = 0;
  bool deleted_pending_ = false;
  std::vector<NetworkServiceEndpoint> registers_;
  std::vector<NetworkServiceEndpoint> unregisters_;
  std::vector<registry::NetworkServiceEndpointQuery> queries_;
};

class FakeNsRegistry : public sdk::NsRegistryElement {
 public:
  absl::StatusOr<NetworkService> Register(sdk::Context& ctx, NetworkService& ns,
                                          const sdk::NsRegistryNext& next) override {
    std::lock_guard lock(mu_);
    registers_.push_back(ns);
    if (fail) return absl::UnavailableError("registry down");
    if (!status.ok()) return status;
    return ns;
  }
  std::vector<NetworkService> registers() const {
    std::lock_guard lock(mu_);
    return registers_;
  }
  bool fail = false;
  absl::Status status;

 private:
  mutable std::mutex mu_;
  std::vector<NetworkService> registers_;
};

class RegistrationTest : public ::testing::Test {
 protected:
  RegistrationOptions Options() {
    RegistrationOptions o;
    o.name = "nse-1";
    o.url = "unix:///run/nse-1/listen.on";
    o.services = {"icmp-responder", "other-service"};
    o.payload = "ETHERNET";
    o.labels = {{"app", "icmp"}};
    o.retry_interval = absl::Seconds(1);
    o.env = [](std::string_view name) -> std::optional<std::string> {
      if (name == "NODE_NAME") return "node-1";
      return std::nullopt;
    };
    return o;
  }
  std::unique_ptr<Registration> Make(RegistrationOptions o) {
    return std::make_unique<Registration>(std::move(o), ns_, nse_, clock_);
  }
  // The keeper thread is waiting on a pause (its timer armed besides `others`).
  void AdvanceOncePaused(int others, absl::Duration d) {
    ASSERT_TRUE(WaitFor([&] { return clock_.PendingTimers() > others; }));
    clock_.Advance(d);
  }

  sdk::FakeClock clock_;
  std::shared_ptr<FakeNsRegistry> ns_ = std::make_shared<FakeNsRegistry>();
  std::shared_ptr<FakeNseRegistry> nse_ = std::make_shared<FakeNseRegistry>(clock_);
};

TEST_F(RegistrationTest, RegistersServicesThenTheEndpointThenWatchesIt) {
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());

  auto services = ns_->registers();
  ASSERT_EQ(services.size(), 2u);
  EXPECT_EQ(services[0].name(), "icmp-responder");
  EXPECT_EQ(services[0].payload(), "ETHERNET");
  EXPECT_EQ(services[1].name(), "other-service");

  auto endpoints = nse_->registers();
  ASSERT_EQ(endpoints.size(), 1u);
  const NetworkServiceEndpoint& sent = endpoints[0];
  EXPECT_EQ(sent.name(), "nse-1");
  EXPECT_EQ(sent.url(), "unix:///run/nse-1/listen.on");
  ASSERT_EQ(sent.network_service_names_size(), 2);
  EXPECT_FALSE(sent.has_expiration_time());
  for (const std::string service : {"icmp-responder", "other-service"}) {
    const auto& labels = sent.network_service_labels().at(service).labels();
    EXPECT_EQ(labels.at("app"), "icmp");
    EXPECT_EQ(labels.at("nodeName"), "node-1") << "clientinfo labels from the environment";
  }
  ASSERT_TRUE(reg->current().has_value());
  EXPECT_TRUE(reg->current()->has_expiration_time());
  EXPECT_EQ(reg->registrations(), 1);

  ASSERT_TRUE(WaitFor([&] { return nse_->watching() == 1; }));
  auto queries = nse_->queries();
  ASSERT_EQ(queries.size(), 1u);
  EXPECT_TRUE(queries[0].watch());
  EXPECT_EQ(queries[0].network_service_endpoint().name(), "nse-1");
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_EQ(nse_->watching(), 0);
}

TEST_F(RegistrationTest, RefreshesAtTwoThirdsWithoutEchoingTheExpiration) {
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());
  const NetworkServiceEndpoint first = *reg->current();

  clock_.Advance(absl::Seconds(39));
  EXPECT_EQ(nse_->registers().size(), 1u);
  clock_.Advance(absl::Seconds(1));
  ASSERT_EQ(nse_->registers().size(), 2u) << "2/3 of one minute";
  const NetworkServiceEndpoint refresh = nse_->registers()[1];
  EXPECT_FALSE(refresh.has_expiration_time());
  EXPECT_EQ(refresh.name(), "nse-1");
  EXPECT_EQ(refresh.url(), "unix:///run/nse-1/listen.on");
  EXPECT_EQ(refresh.initial_registration_time().seconds(),
            first.initial_registration_time().seconds());
  EXPECT_EQ(refresh.path_ids_size(), 1) << "what the registry returned goes back";
  EXPECT_EQ(ns_->registers().size(), 2u) << "network services are not refreshed";

  clock_.Advance(absl::Seconds(40));
  EXPECT_EQ(nse_->registers().size(), 3u);
  EXPECT_EQ(reg->registrations(), 3);
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, RetriesAFailedRefresh) {
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());
  nse_->FailNext(2);
  clock_.Advance(absl::Seconds(40));
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(nse_->registers().size(), 3u);
  EXPECT_EQ(reg->registrations(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(nse_->registers().size(), 4u);
  EXPECT_EQ(reg->registrations(), 2);
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, RegistersAgainWhenTheWatchBreaks) {
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return nse_->watching() == 1; }));
  nse_->BreakWatches();
  AdvanceOncePaused(/*others=*/1, absl::Seconds(1));
  ASSERT_TRUE(WaitFor([&] { return reg->registrations() == 2 && nse_->watching() == 1; }));
  EXPECT_EQ(reg->heals(), 1);
  EXPECT_EQ(ns_->registers().size(), 4u) << "a restarted registry lost the services too";
  EXPECT_FALSE(nse_->registers().back().has_expiration_time());
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, RegistersAgainWhenTheEntryIsDeleted) {
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return nse_->watching() == 1; }));
  nse_->SendDeleted();
  AdvanceOncePaused(/*others=*/1, absl::Seconds(1));
  ASSERT_TRUE(WaitFor([&] { return reg->registrations() == 2 && nse_->watching() == 1; }));
  EXPECT_EQ(reg->heals(), 1);
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, KeepsTryingWhenTheFirstRoundFails) {
  nse_->FailNext(3);
  auto reg = Make(Options());
  absl::Status first = reg->Start();
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(first.message().find("registering endpoint nse-1"), std::string::npos) << first;
  for (int i = 0; i < 3; ++i) AdvanceOncePaused(/*others=*/0, absl::Seconds(1));
  ASSERT_TRUE(WaitFor([&] { return reg->registrations() == 1 && nse_->watching() == 1; }));
  EXPECT_EQ(nse_->registers().size(), 4u);
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, ReportsAFailedServiceRegistration) {
  ns_->fail = true;
  auto reg = Make(Options());
  absl::Status first = reg->Start();
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("registering network service icmp-responder"), std::string::npos)
      << first;
  EXPECT_TRUE(nse_->registers().empty());
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, OffersAServiceAnotherIdentityOwns) {
  ns_->status = absl::PermissionDeniedError("belongs to spiffe://example.org/nse-0");
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());
  EXPECT_EQ(nse_->registers().size(), 1u);
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, WithoutServiceRegistrationOnlyTheEndpointIsRegistered) {
  auto options = Options();
  options.register_services = false;
  auto reg = Make(options);
  ASSERT_TRUE(reg->Start().ok());
  EXPECT_TRUE(ns_->registers().empty());
  EXPECT_EQ(nse_->registers().size(), 1u);
  ASSERT_TRUE(reg->Stop().ok());
}

TEST_F(RegistrationTest, StopUnregistersOnceAndLeavesNoTimers) {
  auto reg = Make(Options());
  ASSERT_TRUE(reg->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return nse_->watching() == 1; }));
  ASSERT_TRUE(reg->Stop().ok());
  ASSERT_EQ(nse_->unregisters().size(), 1u);
  EXPECT_EQ(nse_->unregisters()[0].name(), "nse-1");
  EXPECT_EQ(nse_->watching(), 0);
  EXPECT_EQ(clock_.PendingTimers(), 0);
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_EQ(nse_->unregisters().size(), 1u);
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(nse_->registers().size(), 1u) << "nothing refreshes after Stop";
  EXPECT_FALSE(reg->Start().ok());
}

TEST_F(RegistrationTest, CanLeaveTheEntryToExpire) {
  auto options = Options();
  options.unregister_on_stop = false;
  auto reg = Make(options);
  ASSERT_TRUE(reg->Start().ok());
  ASSERT_TRUE(reg->Stop().ok());
  EXPECT_TRUE(nse_->unregisters().empty());
}

TEST_F(RegistrationTest, RefusesIncompleteOptions) {
  auto options = Options();
  options.services.clear();
  auto reg = Make(options);
  absl::Status status = reg->Start();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(nse_->registers().empty());
}

}  // namespace
}  // namespace nsmcert::nse
