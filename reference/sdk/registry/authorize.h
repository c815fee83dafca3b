// authorize: only the identity that registered a name may refresh or unregister it (spec §8.6,
// upstream's `registry/client_allowed.rego`).
//
// The caller's identity is the SPIFFE ID in the `sub` of the token in path segment 0 (the
// original registrant, even through an nsmgr), read without verification, as upstream does. The
// owner of a name is the first path id stored with it (`path_ids[0]`), which the OwnerLookup
// reports.
//
// Guarantees, on Register and Unregister:
// - A name nobody holds, or one registered without an identity (empty owner), is allowed.
// - A name whose owner is an identity is allowed only to that identity; anyone else (including a
//   caller without an identity) gets PERMISSION_DENIED naming the resource.
// So the check is active once identities exist, and a deployment without tokens works unchanged.
// Find is not checked.
//
// Placement: after updatepath (reads CallRegistryPath; without it the caller has no identity),
// before begin. An expiry's Unregister does not pass through it.
// Threading: thread-safe if the lookup is.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

// The owner (path_ids[0], possibly "") of a registered name, or nullopt when the name is not
// registered.
using OwnerLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The caller identity authorize uses: the SPIFFE ID of path segment 0's token `sub`, or "".
std::string CallerIdentity(Context& ctx);

template <typename Types>
class Authorize final : public RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Next = RegistryNext<Types>;

  explicit Authorize(OwnerLookup owner_of);

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override;
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override;

 private:
  absl::Status Check(Context& ctx, const Resource& resource) const;

  OwnerLookup owner_of_;
};

extern template class Authorize<NseRegistryTypes>;
extern template class Authorize<NsRegistryTypes>;
using NseAuthorize = Authorize<NseRegistryTypes>;
using NsAuthorize = Authorize<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
