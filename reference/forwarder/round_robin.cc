#include "reference/forwarder/round_robin.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reference/forwarder/discover.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::forwarder {

absl::StatusOr<connection::Connection> RoundRobin::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  if (auto url = ctx.values().Get<sdk::ClientUrl>(); url != nullptr && !url->url.empty()) {
    return next.Request(ctx, request);
  }
  auto candidates = ctx.values().Get<Candidates>();
  if (candidates == nullptr) {
    return absl::FailedPreconditionError(
        "round_robin: no endpoint candidates in the context (discover must run first)");
  }
  const std::string& service = candidates->network_service.name();
  const auto& endpoints = candidates->endpoints;
  std::vector<std::string> failures;
  absl::StatusCode last_code = absl::StatusCode::kUnavailable;
  for (size_t attempt = 0; attempt < endpoints.size(); ++attempt) {
    const registry::NetworkServiceEndpoint& nse =
        endpoints[counters_.Next(service, endpoints.size())];
    ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{nse.url()}));
    networkservice::NetworkServiceRequest copy = request;
    copy.mutable_connection()->set_network_service_endpoint_name(nse.name());
    absl::StatusOr<connection::Connection> conn = next.Request(ctx, copy);
    if (conn.ok()) {
      request = std::move(copy);
      return conn;
    }
    last_code = conn.status().code();
    failures.push_back(absl::StrCat(nse.name(), " (", nse.url(), "): ", conn.status().message()));
  }
  ctx.values().Erase<sdk::ClientUrl>();
  // With one candidate its own error code says most; with several, the last one's.
  return absl::Status(last_code, absl::StrCat("all candidates of network service ", service,
                                              " failed: ", absl::StrJoin(failures, "; ")));
}

}  // namespace nsmcert::forwarder
