// ipam (endpoint side): point-to-point addresses for every connection of the endpoint (spec §6,
// upstream point2pointipam/groupipam behind cmd-nse-icmp-responder's NSM_CIDR_PREFIX).
//
// Guarantees, per group of NSM_CIDR_PREFIX (one group per address family for dual stack):
// - A new connection gets the two lowest free addresses of the group's pool: the lower one as
//   dst (the endpoint's side), the next as src (the client's side), each /32 or /128, with
//   src_routes += dst and dst_routes += src.
// - A refresh (same connection id) keeps its addresses; addresses the request already carries
//   from the pool are recovered (after an endpoint restart); addresses that fall into the
//   request's excluded_prefixes are replaced by new ones.
// - With policy strict, a request carrying addresses outside every configured prefix has its IP
//   context cleared first.
// - If the rest of the chain fails, addresses this Request newly took are returned (a refresh
//   keeps its own). Close returns the connection's addresses after the rest of the chain ran.
// - A pool without two free addresses is RESOURCE_EXHAUSTED; a bad excluded prefix is
//   INVALID_ARGUMENT naming it.
//
// Chain placement: in the endpoint's chain after the skeleton (begin, metadata, monitor ...),
// before `mechanisms`, so the forwarder receives the addresses with the chosen mechanism.
// Threading: thread-safe.
#pragma once

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/ipam.h"

namespace nsmcert::nse {

class IpamServer final : public sdk::NetworkServiceElement {
 public:
  // From NSM_CIDR_PREFIX text (`169.254.0.0/16`, groups `[a,b],c`). INVALID_ARGUMENT naming the
  // text when it does not parse.
  static absl::StatusOr<std::shared_ptr<IpamServer>> Create(
      std::string_view cidr_prefix,
      sdk::tools::IpamPolicy policy = sdk::tools::IpamPolicy::kPolite);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

 private:
  explicit IpamServer(std::unique_ptr<sdk::tools::GroupIpam> ipam) : ipam_(std::move(ipam)) {}
  std::unique_ptr<sdk::tools::GroupIpam> ipam_;
};

}  // namespace nsmcert::nse
