#include "reference/sdk/daemon/self_registration.h"

#include "reference/sdk/tools/go_time.h"

namespace nsmcert::sdk::daemon {

std::optional<absl::Duration> RegistrationRefreshDelay(
    const registry::NetworkServiceEndpoint& returned, absl::Time now, absl::Duration retry) {
  if (!returned.has_expiration_time()) return std::nullopt;
  absl::StatusOr<absl::Time> expires = tools::FromProtoTimestamp(returned.expiration_time());
  if (!expires.ok()) return retry;
  absl::Duration left = *expires - now;
  if (left <= absl::ZeroDuration()) return retry;
  return left * 2 / 3;
}

}  // namespace nsmcert::sdk::daemon
