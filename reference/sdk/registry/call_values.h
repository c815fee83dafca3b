// Values one registry call carries from element to element in ctx.values(). updatepath puts them
// there; authorize and expire read them.
#pragma once

#include <optional>

#include "absl/time/time.h"
#include "reference/sdk/tools/registry_path.h"

namespace nsmcert::sdk::reg {

// The expiry of the call's tokens; expire bounds an endpoint's expiration_time with them (§8.2).
struct CallTokenExpiry {
  // When the token this hop generated for the call expires.
  std::optional<absl::Time> own;
  // When the caller's per-RPC token (`nsm-client-token-expires`) expires, if it sent one.
  std::optional<absl::Time> peer;
};

// The call's registry path after this hop's update (index at this hop). Segment 0 holds the
// original registrant's token, whose identity authorize checks (§8.6).
struct CallRegistryPath {
  tools::RegistryPath path;
};

}  // namespace nsmcert::sdk::reg
