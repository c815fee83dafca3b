// The deadline of a lookup (a registry Find, say) made on behalf of a call.
//
// A fixed bound such as NSM_DIAL_TIMEOUT (750 ms) is too short on a saturated node: the lookup
// fails with DEADLINE_EXCEEDED although the call that needs it has seconds left. A lookup gets a
// third of the time the call has left, but at least `floor`, and never more than the call has.
// Without a deadline on the call it gets `floor`; a zero `floor` means "the call's own deadline".
//
// Pure; thread-safe.
#pragma once

#include <algorithm>

#include "absl/time/time.h"
#include "reference/sdk/chain/context.h"

namespace nsmcert::sdk {

inline absl::Time SubcallDeadline(absl::Time now, absl::Time call_deadline, absl::Duration floor) {
  if (floor <= absl::ZeroDuration()) return call_deadline;
  if (call_deadline == absl::InfiniteFuture()) return now + floor;
  const absl::Duration remaining = std::max(call_deadline - now, absl::ZeroDuration());
  return now + std::min(remaining, std::max(floor, remaining / 3));
}

inline absl::Time SubcallDeadline(const Context& ctx, absl::Duration floor) {
  return SubcallDeadline(ctx.Now(), ctx.deadline(), floor);
}

}  // namespace nsmcert::sdk
