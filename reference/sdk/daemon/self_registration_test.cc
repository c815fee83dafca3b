#include "reference/sdk/daemon/self_registration.h"

#include <gtest/gtest.h>

#include "reference/sdk/tools/go_time.h"

namespace nsmcert::sdk::daemon {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1'700'000'000);
const absl::Duration kRetry = absl::Seconds(1);

registry::NetworkServiceEndpoint ExpiringAt(absl::Time expires) {
  registry::NetworkServiceEndpoint nse;
  *nse.mutable_expiration_time() = *tools::ToProtoTimestamp(expires);
  return nse;
}

TEST(RegistrationRefreshDelay, AtTwoThirdsOfTheTimeLeft) {
  EXPECT_EQ(RegistrationRefreshDelay(ExpiringAt(kNow + absl::Seconds(90)), kNow, kRetry),
            absl::Seconds(60));
}

TEST(RegistrationRefreshDelay, NeverWithoutAnExpiration) {
  EXPECT_EQ(RegistrationRefreshDelay(registry::NetworkServiceEndpoint(), kNow, kRetry),
            std::nullopt);
}

TEST(RegistrationRefreshDelay, RetryWhenTheExpirationIsPastOrUnreadable) {
  EXPECT_EQ(RegistrationRefreshDelay(ExpiringAt(kNow), kNow, kRetry), kRetry);
  EXPECT_EQ(RegistrationRefreshDelay(ExpiringAt(kNow - absl::Minutes(1)), kNow, kRetry), kRetry);
  registry::NetworkServiceEndpoint unreadable;
  unreadable.mutable_expiration_time()->set_nanos(-1);
  EXPECT_EQ(RegistrationRefreshDelay(unreadable, kNow, kRetry), kRetry);
}

}  // namespace
}  // namespace nsmcert::sdk::daemon
