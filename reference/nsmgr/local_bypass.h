// local_bypass (NSE registry, nsmgr): the registry knows local endpoints and forwarders only by
// the nsmgr's public URL; the nsmgr alone knows where they really listen (spec §8.3).
//
// Guarantees:
// - Register remembers `name → url` as the caller sent it, passes the registration on with `url`
//   replaced by the nsmgr's own URL, and returns what the rest of the chain returned with the real
//   URL put back. A registration without a URL is INVALID_ARGUMENT; while the own URL is not known
//   yet, registrations are UNAVAILABLE. A failed first registration forgets the name again; a
//   failed refresh keeps the URL remembered before.
// - Find passes every response through with the real URL of each name it knows; responses that
//   carry the own URL for a name it does not know (stale entries of an earlier nsmgr run) are
//   dropped, unless they report a deletion.
// - Unregister of a name it knows goes on with the own URL and forgets the name once it
//   succeeded; a name it does not know is not passed on (another nsmgr, or an earlier run, owns
//   that registration), and the call returns OK.
//
// Chain placement: the nsmgr's NSE registry chain, after expire (so an expiry's Unregister passes
// here), right before the proxy toward the registry or the in-memory store.
// Threading: thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "reference/nsmgr/own_url.h"
#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::nsmgr {

class LocalBypass final : public sdk::NseRegistryElement {
 public:
  explicit LocalBypass(std::shared_ptr<const OwnUrl> own_url);

  absl::StatusOr<registry::NetworkServiceEndpoint> Register(
      sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
      const sdk::NseRegistryNext& next) override;
  absl::Status Find(sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query,
                    sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) override;
  absl::Status Unregister(sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
                          const sdk::NseRegistryNext& next) override;

  // The real URL remembered for `name`, if any.
  std::optional<std::string> LocalUrl(const std::string& name) const;
  // Number of names remembered.
  size_t size() const;

 private:
  std::shared_ptr<const OwnUrl> own_url_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> urls_;
};

}  // namespace nsmcert::nsmgr
