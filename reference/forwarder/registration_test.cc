#include "reference/forwarder/registration.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reference/forwarder/registry_client.h"
#include "reference/forwarder/testing.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

class RegistrationTest : public ::testing::Test {
 protected:
  RegistrationTest() { registry_ = std::make_shared<testing::FakeNseRegistry>(); }

  std::unique_ptr<Registration> Make() {
    RegistrationOptions options;
    options.name = "fwd-1";
    options.url = "unix:///run/fwd-1.sock";
    options.labels = {{"p2p", "true"}, {"nodeName", "node-a"}};
    options.retry_interval = absl::Seconds(1);
    return std::make_unique<Registration>(options, registry_, clock_);
  }

  // Moves the clock until the registration watches again (its pause between watches ends).
  bool AdvanceUntilWatching() {
    for (int i = 0; i < 200; ++i) {
      if (registry_->WaitWatching(1, std::chrono::milliseconds(20))) return true;
      clock_.Advance(absl::Seconds(1));
    }
    return false;
  }

  sdk::FakeClock clock_;
  std::shared_ptr<testing::FakeNseRegistry> registry_;
};

TEST_F(RegistrationTest, RegistersAsAnEndpointOfTheForwarderService) {
  registry_->expiry = absl::Minutes(1);
  auto registration = Make();
  ASSERT_TRUE(registration->Start().ok());
  ASSERT_EQ(registry_->registered().size(), 1u);
  const registry::NetworkServiceEndpoint sent = registry_->registered()[0];
  EXPECT_EQ(sent.name(), "fwd-1");
  EXPECT_THAT(sent.network_service_names(), ElementsAre("forwarder"));
  EXPECT_EQ(sent.url(), "unix:///run/fwd-1.sock");
  ASSERT_TRUE(sent.network_service_labels().contains("forwarder"));
  EXPECT_THAT(sent.network_service_labels().at("forwarder").labels(),
              UnorderedElementsAre(Pair("p2p", "true"), Pair("nodeName", "node-a")));
  ASSERT_TRUE(registration->current().has_value());
  EXPECT_TRUE(registration->current()->has_expiration_time());
}

TEST_F(RegistrationTest, RefreshesAtTwoThirdsOfTheExpiration) {
  registry_->expiry = absl::Minutes(1);
  auto registration = Make();
  ASSERT_TRUE(registration->Start().ok());
  clock_.Advance(absl::Seconds(39));
  EXPECT_EQ(registration->registrations(), 1);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(registration->registrations(), 2);
  clock_.Advance(absl::Seconds(40));
  EXPECT_EQ(registration->registrations(), 3);
}

TEST_F(RegistrationTest, AFailedRegistrationIsRetried) {
  registry_->FailRegisters(2);
  auto registration = Make();
  EXPECT_EQ(registration->Start().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(registration->registrations(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(registration->registrations(), 0);
  clock_.Advance(absl::Seconds(1));
  EXPECT_EQ(registration->registrations(), 1);
  EXPECT_EQ(registry_->registered().size(), 3u);
}

TEST_F(RegistrationTest, ABrokenWatchRegistersAgainAndWatchesAgain) {
  auto registration = Make();
  ASSERT_TRUE(registration->Start().ok());
  ASSERT_TRUE(registry_->WaitWatching(1));
  registry_->BreakWatches();
  ASSERT_TRUE(registry_->WaitRegistered(2));
  EXPECT_TRUE(AdvanceUntilWatching());
}

TEST_F(RegistrationTest, AnEntryReportedDeletedIsRegisteredAgain) {
  auto registration = Make();
  ASSERT_TRUE(registration->Start().ok());
  ASSERT_TRUE(registry_->WaitWatching(1));
  registry_->SendDeleted("fwd-1");
  EXPECT_TRUE(registry_->WaitRegistered(2));
}

TEST_F(RegistrationTest, StopEndsTheWatchAndTimersAndUnregisters) {
  registry_->expiry = absl::Minutes(1);
  auto registration = Make();
  ASSERT_TRUE(registration->Start().ok());
  ASSERT_TRUE(registry_->WaitWatching(1));
  EXPECT_TRUE(registration->Stop().ok());
  EXPECT_TRUE(registry_->WaitWatching(0));
  ASSERT_EQ(registry_->unregistered().size(), 1u);
  EXPECT_EQ(registry_->unregistered()[0].name(), "fwd-1");
  clock_.Advance(absl::Minutes(5));
  EXPECT_EQ(registration->registrations(), 1);
  EXPECT_TRUE(registration->Stop().ok()) << "idempotent";
  EXPECT_EQ(registry_->unregistered().size(), 1u);
}

}  // namespace
}  // namespace nsmcert::forwarder
