// set_registration_time: fills NetworkServiceEndpoint.initial_registration_time and keeps it
// across refreshes (spec §8.2).
//
// Guarantees:
// - The first successful Register of a name stamps the time the caller gave, or now (the
//   context's clock) when it gave none.
// - Every later Register of that name carries the first stamp, whatever the caller sent, until
//   the name is unregistered (by a caller or by expiry); the next registration starts afresh.
// - A failed Register leaves nothing behind.
//
// Placement: after begin (a refresh and an expiry of one name must not interleave), before expire
// and the store, so that an expiry's Unregister passes through it.
// Threading: thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "google/protobuf/timestamp.pb.h"
#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

class SetRegistrationTime final : public NseRegistryElement {
 public:
  absl::StatusOr<registry::NetworkServiceEndpoint> Register(Context& ctx,
                                                            registry::NetworkServiceEndpoint& nse,
                                                            const NseRegistryNext& next) override;
  absl::Status Unregister(Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const NseRegistryNext& next) override;

  // Names with a remembered stamp.
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, google::protobuf::Timestamp> first_registered_;
};

}  // namespace nsmcert::sdk::reg
