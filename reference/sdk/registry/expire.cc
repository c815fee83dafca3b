#include "reference/sdk/registry/expire.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <optional>

#include "reference/sdk/registry/begin.h"
#include "reference/sdk/registry/call_values.h"

namespace nsmcert::sdk::reg {
namespace {

using google::protobuf::util::TimeUtil;

absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

// The earliest bound this hop puts on the call's expiration (nullopt when none applies).
std::optional<absl::Time> EarliestBound(Context& ctx, absl::Duration default_expiration) {
  std::optional<absl::Time> earliest;
  auto consider = [&](std::optional<absl::Time> t) {
    if (t && (!earliest || *t < *earliest)) earliest = t;
  };
  if (auto tokens = ctx.values().Get<CallTokenExpiry>()) {
    consider(tokens->own);
    consider(tokens->peer);
  }
  if (default_expiration != absl::ZeroDuration()) consider(ctx.Now() + default_expiration);
  return earliest;
}

}  // namespace

Expire::Expire(absl::Duration default_expiration)
    : default_expiration_(default_expiration), state_(std::make_shared<State>()) {}

Expire::~Expire() { StopAll(); }

absl::StatusOr<registry::NetworkServiceEndpoint> Expire::Register(
    Context& ctx, registry::NetworkServiceEndpoint& nse, const NseRegistryNext& next) {
  // Upstream subtracts the time the request had left: a caller that waits that long for its
  // refresh answer must not find the entry still alive after its expiration.
  absl::Duration request_timeout =
      ctx.deadline() == absl::InfiniteFuture() ? absl::ZeroDuration() : ctx.Remaining();

  std::optional<absl::Time> expiration = EarliestBound(ctx, default_expiration_);
  if (expiration &&
      (!nse.has_expiration_time() || *expiration < FromTimestamp(nse.expiration_time()))) {
    *nse.mutable_expiration_time() = ToTimestamp(*expiration);
  }

  auto result = next.Register(ctx, nse);
  if (!result.ok()) return result;

  if (result->has_expiration_time()) {
    absl::Time returned = FromTimestamp(result->expiration_time());
    if (!expiration || returned < *expiration) expiration = returned;
  }
  if (!expiration) return result;

  // The expiry runs after this call returned: on a detached context, through begin's factory
  // when there is one so that it is serialised with calls for the name.
  auto factory = ctx.values().Get<NseEventFactory>();
  Context expiry_ctx = ctx.Detached();
  std::weak_ptr<State> weak_state = state_;
  std::string name = result->name();
  registry::NetworkServiceEndpoint registered = *result;
  absl::Duration delay = std::max(absl::ZeroDuration(), *expiration - ctx.Now() - request_timeout);

  std::lock_guard lock(state_->mu);
  uint64_t generation = ++state_->last_generation;
  auto fire = [weak_state, name, generation, factory, next, expiry_ctx, registered]() mutable {
    auto state = weak_state.lock();
    if (state == nullptr) return;
    auto current = [&] {
      std::lock_guard lock(state->mu);
      auto it = state->entries.find(name);
      return it != state->entries.end() && it->second.generation == generation;
    };
    if (factory != nullptr) {
      // Runs the whole rest of the chain after begin, including Expire::Unregister below.
      (void)factory->Unregister(expiry_ctx, registered, current);
    } else if (current()) {
      (void)next.Unregister(expiry_ctx, registered);
    }
    // Normally Expire::Unregister removed the entry already; not if an element before it failed.
    std::lock_guard lock(state->mu);
    if (auto it = state->entries.find(name);
        it != state->entries.end() && it->second.generation == generation) {
      state->entries.erase(it);
    }
  };
  Entry& entry = state_->entries[name];
  if (entry.timer) entry.timer->Stop();
  entry.generation = generation;
  entry.timer = ctx.clock().AfterFunc(delay, std::move(fire));
  return result;
}

absl::Status Expire::Unregister(Context& ctx, registry::NetworkServiceEndpoint& nse,
                                const NseRegistryNext& next) {
  {
    std::lock_guard lock(state_->mu);
    if (auto it = state_->entries.find(nse.name()); it != state_->entries.end()) {
      it->second.timer->Stop();
      state_->entries.erase(it);
    }
  }
  return next.Unregister(ctx, nse);
}

void Expire::StopAll() {
  std::map<std::string, Entry> entries;
  {
    std::lock_guard lock(state_->mu);
    entries.swap(state_->entries);
  }
  // Stopping drops the callbacks and with them the chain they hold.
  for (auto& [name, entry] : entries) entry.timer->Stop();
}

size_t Expire::pending() const {
  std::lock_guard lock(state_->mu);
  return state_->entries.size();
}

}  // namespace nsmcert::sdk::reg
