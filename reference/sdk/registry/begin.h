// begin: serialises Register and Unregister per resource name, so that the elements after it
// never see two events for one name at the same time (a refresh racing an expiry, two
// registrations of one name).
//
// Guarantees:
// - Register and Unregister of one name run one at a time through the rest of the chain; different
//   names run concurrently. Find is not serialised.
// - Register of an empty name is INVALID_ARGUMENT (there is nothing to serialise on).
// - While a call runs, the context holds a RegistryEventFactory (ctx.values()) through which an
//   element after begin can later start its own event for that name - an expiry timer
//   unregistering a stale endpoint - serialised with the calls, through the same elements.
// - A call that arrives with a factory already in its context (an event started by a factory)
//   passes straight through: it already holds the name.
//
// Placement: after the elements that only read or rewrite the request (validate, updatepath,
// authorize), before the elements that keep per-name state (set_registration_time, expire, the
// store).
//
// Threading: thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

namespace internal {
class NameSerializer;
}  // namespace internal

template <typename Types>
class Begin;

// Starts events for one name through the elements that follow begin. A cheap value; copies may
// be kept (by a timer) after the call that produced it ended. Note that a kept factory keeps the
// chain alive: drop it (stop the timer) when the chain is torn down.
template <typename Types>
class RegistryEventFactory {
 public:
  using Resource = typename Types::Resource;

  const std::string& name() const { return name_; }

  // Unregisters `resource` (whose name must be name()) through the elements after begin, once no
  // other event of the name runs. `still_wanted`, when given, is checked while the name is held;
  // if it returns false nothing runs and OK is returned (the event went stale while waiting).
  absl::Status Unregister(Context& ctx, Resource resource,
                          std::function<bool()> still_wanted = {}) const;

 private:
  friend class Begin<Types>;
  RegistryEventFactory(std::shared_ptr<internal::NameSerializer> serializer, std::string name,
                       RegistryNext<Types> next)
      : serializer_(std::move(serializer)), name_(std::move(name)), next_(std::move(next)) {}

  std::shared_ptr<internal::NameSerializer> serializer_;
  std::string name_;
  RegistryNext<Types> next_;
};

template <typename Types>
class Begin final : public RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = RegistryNext<Types>;

  Begin();

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override;
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override;

  // Names with an event running or waiting (for tests: nothing is kept once calls end).
  size_t busy_names() const;

 private:
  std::shared_ptr<internal::NameSerializer> serializer_;
};

extern template class RegistryEventFactory<NseRegistryTypes>;
extern template class RegistryEventFactory<NsRegistryTypes>;
extern template class Begin<NseRegistryTypes>;
extern template class Begin<NsRegistryTypes>;
using NseBegin = Begin<NseRegistryTypes>;
using NsBegin = Begin<NsRegistryTypes>;
using NseEventFactory = RegistryEventFactory<NseRegistryTypes>;
using NsEventFactory = RegistryEventFactory<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
