// What the daemons that register themselves through their nsmgr (the forwarder, the endpoint) share
// about keeping that registration alive (spec §11, registry-side healing).
#pragma once

#include <optional>

#include "absl/time/time.h"
#include "registry.pb.h"

namespace nsmcert::sdk::daemon {

// When to register `returned` (the entry as the registry answered a Register) again: at 2/3 of the
// time left before its expiration_time, as upstream's refresh does, so that a lost refresh still
// leaves time for another; after `retry` when that time is unreadable or already past; never
// (nullopt) when the registry gave none.
std::optional<absl::Duration> RegistrationRefreshDelay(
    const registry::NetworkServiceEndpoint& returned, absl::Time now, absl::Duration retry);

}  // namespace nsmcert::sdk::daemon
