// The expiry of the tokens of one registry call. updatepath puts it into ctx.values() for the
// elements after it; expire uses it to bound an endpoint's expiration_time (spec §8.2).
#pragma once

#include <optional>

#include "absl/time/time.h"

namespace nsmcert::sdk::reg {

struct CallTokenExpiry {
  // When the token this hop generated for the call expires.
  std::optional<absl::Time> own;
  // When the caller's per-RPC token (`nsm-client-token-expires`) expires, if it sent one.
  std::optional<absl::Time> peer;
};

}  // namespace nsmcert::sdk::reg
