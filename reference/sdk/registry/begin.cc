#include "reference/sdk/registry/begin.h"

#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "reference/sdk/registry/traits.h"

namespace nsmcert::sdk::reg {
namespace internal {

// One mutex per name with a user count, so that idle names take no memory.
class NameSerializer {
 public:
  // Runs fn while holding `name`.
  template <typename Fn>
  auto Run(const std::string& name, Fn&& fn) {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard lock(mu_);
      auto& s = slots_[name];
      if (!s) s = std::make_shared<Slot>();
      ++s->users;
      slot = s;
    }
    struct Release {
      NameSerializer* self;
      const std::string& name;
      Slot* slot;
      ~Release() {
        std::lock_guard lock(self->mu_);
        if (--slot->users == 0) self->slots_.erase(name);
      }
    } release{this, name, slot.get()};
    std::lock_guard hold(slot->mu);
    return fn();
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return slots_.size();
  }

 private:
  struct Slot {
    std::mutex mu;
    int users = 0;  // guarded by NameSerializer::mu_
  };
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Slot>> slots_;
};

}  // namespace internal

template <typename Types>
absl::Status RegistryEventFactory<Types>::Unregister(Context& ctx, Resource resource,
                                                     std::function<bool()> still_wanted) const {
  // Mark the context so that a begin further down (nested chains) does not wait for the name
  // this event already holds.
  ctx.values().Set(std::make_shared<RegistryEventFactory>(*this));
  return serializer_->Run(name_, [&]() -> absl::Status {
    if (still_wanted && !still_wanted()) return absl::OkStatus();
    return next_.Unregister(ctx, resource);
  });
}

template <typename Types>
Begin<Types>::Begin() : serializer_(std::make_shared<internal::NameSerializer>()) {}

template <typename Types>
absl::StatusOr<typename Types::Resource> Begin<Types>::Register(Context& ctx, Resource& resource,
                                                                const Next& next) {
  if (resource.name().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(RegistryTraits<Types>::kField, ".name: must not be empty"));
  }
  if (ctx.values().template Get<RegistryEventFactory<Types>>() != nullptr) {
    return next.Register(ctx, resource);
  }
  std::string name = resource.name();
  return serializer_->Run(name, [&]() -> absl::StatusOr<Resource> {
    ctx.values().Set(std::shared_ptr<RegistryEventFactory<Types>>(
        new RegistryEventFactory<Types>(serializer_, name, next)));
    auto result = next.Register(ctx, resource);
    ctx.values().template Erase<RegistryEventFactory<Types>>();
    return result;
  });
}

template <typename Types>
absl::Status Begin<Types>::Unregister(Context& ctx, Resource& resource, const Next& next) {
  if (ctx.values().template Get<RegistryEventFactory<Types>>() != nullptr) {
    return next.Unregister(ctx, resource);
  }
  std::string name = resource.name();
  return serializer_->Run(name, [&]() -> absl::Status {
    ctx.values().Set(std::shared_ptr<RegistryEventFactory<Types>>(
        new RegistryEventFactory<Types>(serializer_, name, next)));
    absl::Status status = next.Unregister(ctx, resource);
    ctx.values().template Erase<RegistryEventFactory<Types>>();
    return status;
  });
}

template <typename Types>
size_t Begin<Types>::busy_names() const {
  return serializer_->size();
}

template class RegistryEventFactory<NseRegistryTypes>;
template class RegistryEventFactory<NsRegistryTypes>;
template class Begin<NseRegistryTypes>;
template class Begin<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
