// updatepath: the registry path of a server hop (spec §8.5), for both registry services.
//
// Guarantees, on Register and Unregister:
// - Reads the path from the incoming `path` metadata (JSON); none means an empty path. Malformed
//   JSON is INVALID_ARGUMENT naming the metadata.
// - Takes the caller's per-RPC token from `nsm-client-token` / `nsm-client-token-expires`
//   (missing or malformed: no peer token, as upstream) and signs this hop's own token.
// - Updates the path (empty → [peer, own], index 1; otherwise the caller's segment takes the peer
//   token and this hop's segment the own token; a bad index is INVALID_ARGUMENT) and the
//   resource's path_ids (peer identity at index-1, own identity at index). An own token without a
//   SPIFFE `sub` fails the call, as upstream.
// - Puts CallRegistryPath and CallTokenExpiry into ctx.values() for the elements after it.
// - After the rest of the chain succeeded, restores the caller's index and returns the path in
//   the `path` response header.
// Find passes through untouched.
//
// Placement: after validate, before authorize (which reads the path) and expire (which reads the
// token expiry).
// Threading: thread-safe if the signer is.
#pragma once

#include <memory>

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::reg {

template <typename Types>
class UpdatePath final : public RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Next = RegistryNext<Types>;

  // `signer` makes this hop's own tokens; its subject must be a SPIFFE ID.
  explicit UpdatePath(std::shared_ptr<tools::TokenSigner> signer);

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override;
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override;

 private:
  std::shared_ptr<tools::TokenSigner> signer_;
};

extern template class UpdatePath<NseRegistryTypes>;
extern template class UpdatePath<NsRegistryTypes>;
using NseUpdatePath = UpdatePath<NseRegistryTypes>;
using NsUpdatePath = UpdatePath<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
