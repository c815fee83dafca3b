// discover_forwarder (nsmgr, server side): picks the local forwarder a connection goes through and
// hands the request to it (spec §8.4, §9.3).
//
// Guarantees on Request:
// - connection.network_service must be set (INVALID_ARGUMENT otherwise). The network service is
//   looked up by name (and payload, when the request has one) for its matches: NOT_FOUND
//   "network service <name> is not found" when the registry does not know it.
// - The local forwarders are found with {network_service_names: [forwarder service], url: own
//   URL, name: the remembered forwarder, if any}: the URL restricts them to forwarders registered
//   through this nsmgr. Entries marked deleted or already expired (context clock) are dropped.
// - Candidates follow the forwarder label rule (tools::MatchForwarders: no matches → all, else
//   the first fitting match's metadata labels, {"p2p": "true"} when it has none, fall-through).
//   None: NOT_FOUND "no forwarder candidates found for network service <name>", or UNAVAILABLE
//   "forwarder <name> is not available" when a remembered forwarder is gone.
// - Stickiness: the chosen forwarder's registration is remembered for the connection (in its
//   server-side connection metadata) and queried by name on every later Request. A request in state
//   RESELECT_REQUESTED forgets it first. Without a remembered name, the candidate named at
//   path_segments[index+1] (the path an earlier run of this nsmgr built) is tried first.
// - Candidates are tried in order, each with a fresh copy of the request, ClientUrl = its URL and
//   NextHopIdentity = the first path id of its registration (the forwarder's SPIFFE ID, for the
//   `aud` of the token this hop presents to it). The first success wins; if all fail, the error
//   names every forwarder tried and keeps the code of the last failure.
// Guarantees on Close: the Close goes to the remembered forwarder's URL, without a registry
// lookup. When this process never requested the connection (it restarted), the forwarder named
// at path_segments[index+1] is looked up by name and own URL. When it cannot be found or reached
// (UNAVAILABLE: it is gone),
// the Close still runs the rest of the chain so that everything after this element releases what
// it holds, and then returns OK: there is no forwarder left to tell.
//
// Registry calls run on a fresh Context (same clock) with the deadline of SubcallDeadline (a third
// of what the request has left, at least `registry_call_timeout`) through the given registry
// elements: the nsmgr's own NS chain and its local_bypass + proxy part of the NSE chain, so
// forwarder URLs come back as the real local URLs.
//
// Chain placement: the nsmgr's server chain after metadata (the remembered name lives there),
// trimpath and clientinfo (labels feed the match), before the client chain that connects to the
// forwarder.
// Threading: thread-safe if the registry elements are.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "reference/nsmgr/own_url.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/registry_chain.h"
#include "registry.pb.h"

namespace nsmcert::nsmgr {

struct DiscoverForwarderOptions {
  // NSM_FORWARDER_NETWORK_SERVICE_NAME.
  std::string forwarder_service_name = "forwarder";
  // NSM_DIAL_TIMEOUT: the least time each registry call gets (a third of the request's remaining
  // time when that is longer; never more than the request has); zero = the request's deadline.
  absl::Duration registry_call_timeout = absl::ZeroDuration();
};

class DiscoverForwarder final : public sdk::NetworkServiceElement {
 public:
  DiscoverForwarder(std::shared_ptr<sdk::NsRegistryElement> ns_registry,
                    std::shared_ptr<sdk::NseRegistryElement> nse_registry,
                    std::shared_ptr<const OwnUrl> own_url, DiscoverForwarderOptions options = {});

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // The forwarder remembered for the connection whose server-side metadata is attached to `ctx`
  // ("" when none).
  static std::string RememberedForwarder(const sdk::Context& ctx);

 private:
  sdk::Context RegistryContext(const sdk::Context& ctx) const;
  absl::StatusOr<registry::NetworkService> FindService(const sdk::Context& ctx,
                                                       const connection::Connection& conn) const;
  // Forwarders registered through this nsmgr: named `name` (any name when empty), offering the
  // forwarder service unless `any_service` (a Close finds its forwarder by name alone).
  absl::StatusOr<std::vector<registry::NetworkServiceEndpoint>> FindForwarders(
      const sdk::Context& ctx, const std::string& name, bool any_service) const;

  std::shared_ptr<sdk::NsRegistryElement> ns_registry_;
  std::shared_ptr<sdk::NseRegistryElement> nse_registry_;
  std::shared_ptr<const OwnUrl> own_url_;
  DiscoverForwarderOptions options_;
};

}  // namespace nsmcert::nsmgr
