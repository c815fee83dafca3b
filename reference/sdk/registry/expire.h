// expire: gives every NetworkServiceEndpoint an expiration_time and unregisters it when it is not
// refreshed in time (spec §8.2).
//
// Guarantees:
// - Register sets expiration_time to the earliest of: what the caller sent, the call's own and
//   peer token expiry (CallTokenExpiry from updatepath, when present) and now + the default
//   expiration (when not zero). The clock is the context's, so tests drive it with FakeClock.
// - After a successful Register a timer is armed for the expiration_time the rest of the chain
//   returned, less the time the request had left before its deadline (as upstream: the entry
//   must go before a caller that waits that long could refresh it). A refresh re-arms it; a
//   failed Register leaves the previous timer running.
// - When the timer fires the endpoint is unregistered through the elements after begin (via the
//   RegistryEventFactory), serialised with calls for the same name, so the store removes it and
//   its watchers get `deleted=true`. A refresh or Unregister that wins the race cancels it.
// - Unregister cancels the timer.
//
// Placement: after begin and set_registration_time, right before the store. Without begin in
// front the expiry unregisters through the elements after expire only, unserialised.
//
// Lifetime: a pending timer holds the chain it will run (its `next`), so a chain with pending
// expiries is never freed by dropping references to it: call StopAll() first.
// Threading: thread-safe. With the real clock, expiries run on the clock's timer thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

inline constexpr absl::Duration kDefaultNseExpiration = absl::Minutes(1);

class Expire final : public NseRegistryElement {
 public:
  // `default_expiration`: the lifetime an endpoint gets when nothing shorter applies; zero for
  // none.
  explicit Expire(absl::Duration default_expiration = kDefaultNseExpiration);
  ~Expire() override;

  absl::StatusOr<registry::NetworkServiceEndpoint> Register(Context& ctx,
                                                            registry::NetworkServiceEndpoint& nse,
                                                            const NseRegistryNext& next) override;
  absl::Status Unregister(Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const NseRegistryNext& next) override;

  // Cancels every pending expiry (at shutdown). Later Registers arm timers again.
  void StopAll();
  // Endpoints with a pending expiry.
  size_t pending() const;

 private:
  struct Entry {
    uint64_t generation = 0;
    std::unique_ptr<Timer> timer;
  };
  struct State {
    std::mutex mu;
    std::map<std::string, Entry> entries;
    uint64_t last_generation = 0;
  };

  absl::Duration default_expiration_;
  std::shared_ptr<State> state_;
};

}  // namespace nsmcert::sdk::reg
