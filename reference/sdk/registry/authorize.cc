#include "reference/sdk/registry/authorize.h"

#include "absl/strings/str_cat.h"
#include "reference/sdk/registry/call_values.h"
#include "reference/sdk/registry/traits.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::reg {

std::string CallerIdentity(Context& ctx) {
  auto path = ctx.values().Get<CallRegistryPath>();
  if (path == nullptr || path->path.tokens.empty()) return "";
  auto id = tools::JwtSubjectSpiffeId(path->path.tokens.front());
  return id.ok() ? id->ToString() : "";
}

template <typename Types>
Authorize<Types>::Authorize(OwnerLookup owner_of) : owner_of_(std::move(owner_of)) {}

template <typename Types>
absl::Status Authorize<Types>::Check(Context& ctx, const Resource& resource) const {
  std::optional<std::string> owner = owner_of_(resource.name());
  if (!owner.has_value() || owner->empty()) return absl::OkStatus();
  std::string caller = CallerIdentity(ctx);
  if (caller == *owner) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      RegistryTraits<Types>::kField, " \"", resource.name(), "\" belongs to ", *owner, "; caller ",
      caller.empty() ? "without identity" : caller, ": no sufficient privileges"));
}

template <typename Types>
absl::StatusOr<typename Types::Resource> Authorize<Types>::Register(Context& ctx,
                                                                    Resource& resource,
                                                                    const Next& next) {
  if (absl::Status s = Check(ctx, resource); !s.ok()) return s;
  return next.Register(ctx, resource);
}

template <typename Types>
absl::Status Authorize<Types>::Unregister(Context& ctx, Resource& resource, const Next& next) {
  if (absl::Status s = Check(ctx, resource); !s.ok()) return s;
  return next.Unregister(ctx, resource);
}

template class Authorize<NseRegistryTypes>;
template class Authorize<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
