#include "reference/nsmgr/discover_forwarder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reference/sdk/chain/subcall_deadline.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/match.h"

namespace nsmcert::nsmgr {
namespace {

// The forwarder a connection went through (its registration as found), kept in the connection's
// server-side metadata: its name makes refreshes sticky, its URL lets a Close reach it without a
// registry lookup (which a loaded node may not finish in time).
struct RememberedForwarderEntry {
  registry::NetworkServiceEndpoint forwarder;
};

std::shared_ptr<RememberedForwarderEntry> Remembered(const sdk::Context& ctx) {
  auto metadata = ctx.connection_metadata(/*client_side=*/false);
  return metadata ? metadata->Get<RememberedForwarderEntry>() : nullptr;
}

void Remember(const sdk::Context& ctx, const registry::NetworkServiceEndpoint& forwarder) {
  if (auto metadata = ctx.connection_metadata(/*client_side=*/false)) {
    metadata->Set(std::make_shared<RememberedForwarderEntry>(RememberedForwarderEntry{forwarder}));
  }
}

void Forget(const sdk::Context& ctx) {
  if (auto metadata = ctx.connection_metadata(/*client_side=*/false)) {
    metadata->Erase<RememberedForwarderEntry>();
  }
}

// The name of the hop after this one in the connection's path, "" if there is none.
std::string NextSegmentName(const connection::Connection& conn) {
  const auto& path = conn.path();
  const size_t next = static_cast<size_t>(path.index()) + 1;
  if (next >= static_cast<size_t>(path.path_segments_size())) return "";
  return path.path_segments(static_cast<int>(next)).name();
}

bool Expired(const registry::NetworkServiceEndpoint& nse, absl::Time now) {
  if (!nse.has_expiration_time()) return false;
  auto expires = sdk::tools::FromProtoTimestamp(nse.expiration_time());
  return expires.ok() && *expires <= now;
}

// Points the rest of the chain at `forwarder`: its URL for the connect element, its identity
// (the first path id of its registration) for the token this hop presents to it.
void Target(sdk::Context& ctx, const registry::NetworkServiceEndpoint& forwarder) {
  ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{forwarder.url()}));
  if (!forwarder.path_ids().empty() && !forwarder.path_ids(0).empty()) {
    ctx.values().Set(
        std::make_shared<sdk::NextHopIdentity>(sdk::NextHopIdentity{forwarder.path_ids(0)}));
  } else {
    ctx.values().Erase<sdk::NextHopIdentity>();
  }
}

}  // namespace

DiscoverForwarder::DiscoverForwarder(std::shared_ptr<sdk::NsRegistryElement> ns_registry,
                                     std::shared_ptr<sdk::NseRegistryElement> nse_registry,
                                     std::shared_ptr<const OwnUrl> own_url,
                                     DiscoverForwarderOptions options)
    : ns_registry_(std::move(ns_registry)),
      nse_registry_(std::move(nse_registry)),
      own_url_(std::move(own_url)),
      options_(std::move(options)) {}

std::string DiscoverForwarder::RememberedForwarder(const sdk::Context& ctx) {
  auto remembered = Remembered(ctx);
  return remembered ? remembered->forwarder.name() : "";
}

sdk::Context DiscoverForwarder::RegistryContext(const sdk::Context& ctx) const {
  sdk::Context registry_ctx(ctx.clock());
  registry_ctx.set_deadline(sdk::SubcallDeadline(ctx, options_.registry_call_timeout));
  return registry_ctx;
}

absl::StatusOr<registry::NetworkService> DiscoverForwarder::FindService(
    const sdk::Context& ctx, const connection::Connection& conn) const {
  registry::NetworkServiceQuery query;
  query.mutable_network_service()->set_name(conn.network_service());
  query.mutable_network_service()->set_payload(conn.payload());
  std::optional<registry::NetworkService> found;
  sdk::FunctionSink<registry::NetworkServiceResponse> sink(
      [&](const registry::NetworkServiceResponse& response) {
        if (!response.deleted() && response.network_service().name() == conn.network_service()) {
          found = response.network_service();
        }
        return absl::OkStatus();
      });
  sdk::Context registry_ctx = RegistryContext(ctx);
  absl::Status status = ns_registry_->Find(registry_ctx, query, sink, sdk::NsRegistryNext());
  if (!status.ok()) {
    return absl::Status(
        status.code(),
        absl::StrCat("finding network service ", conn.network_service(), ": ", status.message()));
  }
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("network service ", conn.network_service(), " is not found"));
  }
  return *found;
}

absl::StatusOr<std::vector<registry::NetworkServiceEndpoint>> DiscoverForwarder::FindForwarders(
    const sdk::Context& ctx, const std::string& name, bool any_service) const {
  registry::NetworkServiceEndpointQuery query;
  auto* nse = query.mutable_network_service_endpoint();
  nse->set_name(name);
  nse->set_url(own_url_->Get());
  if (!any_service) nse->add_network_service_names(options_.forwarder_service_name);
  std::vector<registry::NetworkServiceEndpoint> forwarders;
  const absl::Time now = ctx.Now();
  sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
      [&](const registry::NetworkServiceEndpointResponse& response) {
        const auto& found = response.network_service_endpoint();
        if (!response.deleted() && !Expired(found, now)) forwarders.push_back(found);
        return absl::OkStatus();
      });
  sdk::Context registry_ctx = RegistryContext(ctx);
  absl::Status status = nse_registry_->Find(registry_ctx, query, sink, sdk::NseRegistryNext());
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("finding ", options_.forwarder_service_name,
                                                    " on ", nse->url(), ": ", status.message()));
  }
  return forwarders;
}

absl::StatusOr<connection::Connection> DiscoverForwarder::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  const connection::Connection& conn = request.connection();
  if (conn.network_service().empty()) {
    return absl::InvalidArgumentError("connection.network_service: required");
  }
  if (conn.state() == connection::RESELECT_REQUESTED) Forget(ctx);
  const std::string remembered = RememberedForwarder(ctx);

  absl::StatusOr<registry::NetworkService> service = FindService(ctx, conn);
  if (!service.ok()) return service.status();

  auto forwarders = FindForwarders(ctx, remembered, /*any_service=*/false);
  if (!forwarders.ok()) return forwarders.status();
  std::vector<registry::NetworkServiceEndpoint> candidates = sdk::tools::MatchForwarders(
      conn.labels(), *service, *forwarders, options_.forwarder_service_name);
  if (candidates.empty()) {
    if (!remembered.empty()) {
      return absl::UnavailableError(absl::StrCat("forwarder ", remembered, " is not available"));
    }
    return absl::NotFoundError(
        absl::StrCat("no forwarder candidates found for network service ", conn.network_service()));
  }
  if (remembered.empty()) sdk::tools::PreferCandidate(candidates, NextSegmentName(conn));

  std::vector<std::string> failures;
  absl::Status last;
  for (const auto& forwarder : candidates) {
    if (ctx.cancelled() || ctx.Remaining() <= absl::ZeroDuration()) {
      failures.push_back("no time left to try further forwarders");
      break;
    }
    Target(ctx, forwarder);
    networkservice::NetworkServiceRequest attempt = request;
    auto result = next.Request(ctx, attempt);
    if (result.ok()) {
      Remember(ctx, forwarder);
      return result;
    }
    NSM_LOG(kWarn) << "forwarder " << forwarder.name() << " (" << forwarder.url()
                   << ") refused connection " << conn.id() << ": " << result.status();
    last = result.status();
    failures.push_back(
        absl::StrCat(forwarder.name(), " (", forwarder.url(), "): ", result.status().message()));
  }
  return absl::Status(last.ok() ? absl::StatusCode::kDeadlineExceeded : last.code(),
                      absl::StrCat("all forwarders failed: ", absl::StrJoin(failures, "; ")));
}

absl::Status DiscoverForwarder::Close(sdk::Context& ctx, connection::Connection& conn,
                                      const sdk::NetworkServiceNext& next) {
  std::optional<registry::NetworkServiceEndpoint> forwarder;
  std::string name;
  if (auto remembered = Remembered(ctx); remembered != nullptr) {
    forwarder = remembered->forwarder;
    name = forwarder->name();
  } else {
    // Not requested through this process (it restarted): the path names the forwarder.
    name = NextSegmentName(conn);
  }
  if (!forwarder && !name.empty()) {
    auto found = FindForwarders(ctx, name, /*any_service=*/true);
    if (!found.ok()) {
      NSM_LOG(kWarn) << "close " << conn.id() << ": " << found.status();
    } else if (!found->empty()) {
      forwarder = found->front();
    }
  }
  if (forwarder) {
    Target(ctx, *forwarder);
    absl::Status status = next.Close(ctx, conn);
    if (status.code() != absl::StatusCode::kUnavailable) return status;
    // The forwarder is gone (it holds nothing any more); everything after this element released
    // its state on the way.
    NSM_LOG(kInfo) << "close " << conn.id() << ": forwarder " << name << " unreachable ("
                   << status.message() << "), closed at this hop only";
    return absl::OkStatus();
  }
  // Nothing beyond this hop can be told; the elements after this one still release their state.
  ctx.values().Erase<sdk::ClientUrl>();
  absl::Status status = next.Close(ctx, conn);
  NSM_LOG(kInfo) << "close " << conn.id() << ": forwarder "
                 << (name.empty() ? std::string("(unknown)") : name)
                 << " not found, closed at this hop only ("
                 << (status.ok() ? std::string("OK") : std::string(status.message())) << ")";
  return absl::OkStatus();
}

}  // namespace nsmcert::nsmgr
