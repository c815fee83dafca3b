#include "reference/forwarder/discover.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "reference/sdk/chain/subcall_deadline.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/match.h"

namespace nsmcert::forwarder {
namespace {

using sdk::Context;

// Upstream drops endpoints whose registration lapsed; an endpoint without an expiration never
// lapses.
bool Expired(const registry::NetworkServiceEndpoint& nse, absl::Time now) {
  if (!nse.has_expiration_time()) return false;
  absl::StatusOr<absl::Time> at = sdk::tools::FromProtoTimestamp(nse.expiration_time());
  return at.ok() && *at <= now;
}

// The URL of the endpoint a connection reached, kept in its server-side connection metadata so
// that a Close reaches it without a registry lookup (which a loaded node may not finish in time).
struct EndpointUrl {
  std::string url;
};

void RememberEndpointUrl(Context& ctx) {
  auto metadata = ctx.connection_metadata(/*client_side=*/false);
  auto url = ctx.values().Get<sdk::ClientUrl>();
  if (metadata == nullptr || url == nullptr || url->url.empty()) return;
  metadata->Set(std::make_shared<EndpointUrl>(EndpointUrl{url->url}));
}

std::string RememberedEndpointUrl(const Context& ctx) {
  auto metadata = ctx.connection_metadata(/*client_side=*/false);
  auto remembered = metadata ? metadata->Get<EndpointUrl>() : nullptr;
  return remembered ? remembered->url : "";
}

absl::Status Annotate(const absl::Status& status, const std::string& what) {
  return absl::Status(status.code(), absl::StrCat(what, ": ", status.message()));
}

}  // namespace

Discover::Discover(std::shared_ptr<sdk::NsRegistryElement> ns_registry,
                   std::shared_ptr<sdk::NseRegistryElement> nse_registry, DiscoverOptions options)
    : ns_registry_(std::move(ns_registry)),
      nse_registry_(std::move(nse_registry)),
      options_(options) {}

Context Discover::RegistryContext(const Context& ctx) const {
  Context call(ctx.clock());
  call.set_deadline(sdk::SubcallDeadline(ctx, options_.registry_call_timeout));
  return call;
}

absl::StatusOr<registry::NetworkServiceEndpoint> Discover::FindEndpoint(
    const Context& ctx, const std::string& name) const {
  registry::NetworkServiceEndpointQuery query;
  query.mutable_network_service_endpoint()->set_name(name);
  std::vector<registry::NetworkServiceEndpoint> found;
  sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
      [&](const registry::NetworkServiceEndpointResponse& response) {
        if (!response.deleted() && response.network_service_endpoint().name() == name) {
          found.push_back(response.network_service_endpoint());
        }
        return absl::OkStatus();
      });
  Context call = RegistryContext(ctx);
  absl::Status status = nse_registry_->Find(call, query, sink, sdk::NseRegistryNext());
  if (!status.ok()) {
    return Annotate(status, absl::StrCat("find network service endpoint ", name));
  }
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("network service endpoint ", name, " not found"));
  }
  return found.front();
}

absl::StatusOr<registry::NetworkService> Discover::FindService(const Context& ctx,
                                                               const std::string& name,
                                                               const std::string& payload) const {
  registry::NetworkServiceQuery query;
  query.mutable_network_service()->set_name(name);
  query.mutable_network_service()->set_payload(payload);
  std::vector<registry::NetworkService> found;
  sdk::FunctionSink<registry::NetworkServiceResponse> sink(
      [&](const registry::NetworkServiceResponse& response) {
        if (!response.deleted() && response.network_service().name() == name) {
          found.push_back(response.network_service());
        }
        return absl::OkStatus();
      });
  Context call = RegistryContext(ctx);
  absl::Status status = ns_registry_->Find(call, query, sink, sdk::NsRegistryNext());
  if (!status.ok()) return Annotate(status, absl::StrCat("find network service ", name));
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat("network service ", name, " is not found"));
  }
  return found.front();
}

absl::StatusOr<std::vector<registry::NetworkServiceEndpoint>> Discover::FindCandidates(
    const Context& ctx, const registry::NetworkService& service,
    const google::protobuf::Map<std::string, std::string>& labels) const {
  registry::NetworkServiceEndpointQuery query;
  query.mutable_network_service_endpoint()->add_network_service_names(service.name());
  std::vector<registry::NetworkServiceEndpoint> live;
  const absl::Time now = ctx.Now();
  sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
      [&](const registry::NetworkServiceEndpointResponse& response) {
        if (!response.deleted() && !Expired(response.network_service_endpoint(), now)) {
          live.push_back(response.network_service_endpoint());
        }
        return absl::OkStatus();
      });
  Context call = RegistryContext(ctx);
  absl::Status status = nse_registry_->Find(call, query, sink, sdk::NseRegistryNext());
  if (!status.ok()) {
    return Annotate(status, absl::StrCat("find network service endpoints of ", service.name()));
  }
  std::vector<registry::NetworkServiceEndpoint> matched =
      sdk::tools::MatchEndpoint(labels, service, live);
  if (matched.empty()) {
    return absl::NotFoundError("network service endpoint candidates not found");
  }
  return matched;
}

absl::StatusOr<connection::Connection> Discover::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  if (auto url = ctx.values().Get<sdk::ClientUrl>(); url != nullptr && !url->url.empty()) {
    return next.Request(ctx, request);
  }
  connection::Connection& conn = *request.mutable_connection();
  if (!conn.network_service_endpoint_name().empty()) {
    auto nse = FindEndpoint(ctx, conn.network_service_endpoint_name());
    if (!nse.ok()) return nse.status();
    ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{nse->url()}));
    auto result = next.Request(ctx, request);
    if (result.ok()) RememberEndpointUrl(ctx);
    return result;
  }
  auto service = FindService(ctx, conn.network_service(), conn.payload());
  if (!service.ok()) return service.status();
  auto endpoints = FindCandidates(ctx, *service, conn.labels());
  if (!endpoints.ok()) return endpoints.status();
  conn.set_payload(service->payload());
  auto candidates = std::make_shared<Candidates>();
  candidates->network_service = *std::move(service);
  candidates->endpoints = *std::move(endpoints);
  ctx.values().Set(std::move(candidates));
  auto result = next.Request(ctx, request);
  if (result.ok()) RememberEndpointUrl(ctx);  // round_robin's choice
  return result;
}

absl::Status Discover::Close(Context& ctx, connection::Connection& conn,
                             const sdk::NetworkServiceNext& next) {
  if (auto url = ctx.values().Get<sdk::ClientUrl>(); url != nullptr && !url->url.empty()) {
    return next.Close(ctx, conn);
  }
  if (std::string url = RememberedEndpointUrl(ctx); !url.empty()) {
    ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{url}));
    return next.Close(ctx, conn);
  }
  // Close always continues: the elements after this one must release what they hold even when
  // the endpoint has gone from the registry.
  if (!conn.network_service_endpoint_name().empty()) {
    auto nse = FindEndpoint(ctx, conn.network_service_endpoint_name());
    if (nse.ok()) {
      ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{nse->url()}));
    }
  }
  return next.Close(ctx, conn);
}

}  // namespace nsmcert::forwarder
