// discover (forwarder, server side): finds where a connection can go (spec §9.1).
//
// Guarantees on Request:
// - A ClientUrl already in the context (an earlier element chose the next hop) is left alone.
// - With connection.network_service_endpoint_name set, that endpoint is looked up by name through
//   the NSE registry client; ClientUrl = its URL. NOT_FOUND naming the endpoint when the registry
//   does not know it.
// - Otherwise the network service is looked up by name (and payload, when the request has one),
//   then the endpoints that offer it; entries marked `deleted` and entries whose expiration_time
//   has passed (on the context's clock) are dropped, and the rest are filtered by the match
//   algorithm (§9.2, with the request labels). connection.payload becomes the service's payload and
//   Candidates{service, endpoints} goes into the context's values for round_robin. NOT_FOUND
//   "network service <name> is not found", or NOT_FOUND "network service endpoint candidates not
//   found" (the words upstream uses) when nothing matches.
// - After a successful Request the chosen endpoint's URL is remembered for the connection (its
//   server-side connection metadata).
// Guarantees on Close: ClientUrl is the remembered URL, without a registry lookup; when there is
// none (this process did not serve the Request) the endpoint named by the connection is looked up
// by name and ClientUrl is set to its URL; when it cannot be found (the endpoint is gone) the Close
// still continues, without a ClientUrl, so that every element after this one releases what it
// holds.
//
// Registry calls run on a fresh Context (same clock) with the deadline of SubcallDeadline (a third
// of what the request has left, at least `registry_call_timeout`) through the given registry
// elements, which end in a gRPC client toward the nsmgr (registry_client.h) or, in tests, in fakes.
//
// Chain placement: the forwarder's server chain after trimpath, before round_robin.
// Threading: thread-safe if the registry elements are.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/registry_chain.h"
#include "registry.pb.h"

namespace nsmcert::forwarder {

// What discover found for round_robin: the network service and the endpoints that may serve the
// request, in match order.
struct Candidates {
  registry::NetworkService network_service;
  std::vector<registry::NetworkServiceEndpoint> endpoints;
};

struct DiscoverOptions {
  // NSM_DIAL_TIMEOUT: the least time each registry call gets (a third of the request's remaining
  // time when that is longer; never more than the request has); zero = the request's deadline.
  absl::Duration registry_call_timeout = absl::ZeroDuration();
};

class Discover final : public sdk::NetworkServiceElement {
 public:
  Discover(std::shared_ptr<sdk::NsRegistryElement> ns_registry,
           std::shared_ptr<sdk::NseRegistryElement> nse_registry, DiscoverOptions options = {});

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

 private:
  sdk::Context RegistryContext(const sdk::Context& ctx) const;
  absl::StatusOr<registry::NetworkServiceEndpoint> FindEndpoint(const sdk::Context& ctx,
                                                                const std::string& name) const;
  absl::StatusOr<registry::NetworkService> FindService(const sdk::Context& ctx,
                                                       const std::string& name,
                                                       const std::string& payload) const;
  absl::StatusOr<std::vector<registry::NetworkServiceEndpoint>> FindCandidates(
      const sdk::Context& ctx, const registry::NetworkService& service,
      const google::protobuf::Map<std::string, std::string>& labels) const;

  std::shared_ptr<sdk::NsRegistryElement> ns_registry_;
  std::shared_ptr<sdk::NseRegistryElement> nse_registry_;
  DiscoverOptions options_;
};

}  // namespace nsmcert::forwarder
