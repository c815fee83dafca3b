// set_payload: a NetworkService registered without a payload gets the default one, `IP`, as
// upstream's registry-memory does (spec §3.6, §8.1).
//
// Placement: in the NetworkService registry server chain, before the store.
// Threading: stateless, thread-safe.
#pragma once

#include <string>

#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

class SetPayload final : public NsRegistryElement {
 public:
  // `payload` is what an empty payload becomes (upstream: IP).
  explicit SetPayload(std::string payload = "IP");

  absl::StatusOr<registry::NetworkService> Register(Context& ctx, registry::NetworkService& ns,
                                                    const NsRegistryNext& next) override;

 private:
  std::string payload_;
};

}  // namespace nsmcert::sdk::reg
