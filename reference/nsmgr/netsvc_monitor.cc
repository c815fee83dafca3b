#include "reference/nsmgr/netsvc_monitor.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

#include "reference/sdk/daemon/log.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/match.h"

namespace nsmcert::nsmgr {
namespace {

// The earliest expiry among the path's segments, if any segment has one.
std::optional<absl::Time> EarliestExpiry(const connection::Connection& conn) {
  std::optional<absl::Time> earliest;
  for (const auto& segment : conn.path().path_segments()) {
    if (!segment.has_expires()) continue;
    auto expires = sdk::tools::FromProtoTimestamp(segment.expires());
    if (expires.ok() && (!earliest || *expires < *earliest)) earliest = *expires;
  }
  return earliest;
}

}  // namespace

struct NetsvcMonitor::Watch {
  explicit Watch(sdk::Clock& clock) : ctx(clock) {}

  sdk::Context ctx;  // cancelled to end the watch
  std::atomic<bool> stopped{false};
  std::atomic<bool> finished{false};
  std::unique_ptr<sdk::Timer> until_expiry;
  std::thread thread;
};

struct NetsvcMonitor::WatchJob {
  std::shared_ptr<sdk::NsRegistryElement> ns_registry;
  std::shared_ptr<sdk::NseRegistryElement> nse_registry;
  NetsvcMonitorOptions options;
  connection::Connection conn;
  std::weak_ptr<sdk::EventFactory> factory;

  // The registered endpoints named like the connection's endpoint (none when the lookup fails).
  std::vector<registry::NetworkServiceEndpoint> FindEndpoint(sdk::Clock& clock) const {
    sdk::Context ctx(clock);
    if (options.registry_call_timeout > absl::ZeroDuration()) {
      ctx.set_deadline(ctx.Now() + options.registry_call_timeout);
    }
    registry::NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_name(conn.network_service_endpoint_name());
    std::vector<registry::NetworkServiceEndpoint> found;
    sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
        [&](const registry::NetworkServiceEndpointResponse& response) {
          if (!response.deleted()) found.push_back(response.network_service_endpoint());
          return absl::OkStatus();
        });
    absl::Status status = nse_registry->Find(ctx, query, sink, sdk::NseRegistryNext());
    if (!status.ok()) {
      NSM_LOG(kWarn) << "netsvc_monitor " << conn.id() << ": finding endpoint "
                     << conn.network_service_endpoint_name() << ": " << status;
      return {};
    }
    return found;
  }

  // Watches until the watch is cancelled or the endpoint stops matching (returns true then).
  bool WatchUntilMismatch(Watch& watch) const {
    registry::NetworkServiceQuery query;
    query.set_watch(true);
    query.mutable_network_service()->set_name(conn.network_service());
    while (!watch.ctx.cancelled()) {
      bool mismatch = false;
      sdk::FunctionSink<registry::NetworkServiceResponse> sink(
          [&](const registry::NetworkServiceResponse& response) -> absl::Status {
            if (response.deleted()) return absl::OkStatus();
            std::vector<registry::NetworkServiceEndpoint> endpoints =
                FindEndpoint(watch.ctx.clock());
            if (endpoints.empty()) return absl::OkStatus();
            if (!sdk::tools::MatchEndpoint(conn.labels(), response.network_service(), endpoints)
                     .empty()) {
              return absl::OkStatus();
            }
            mismatch = true;
            return absl::CancelledError("endpoint no longer matches its network service");
          });
      absl::Status status = ns_registry->Find(watch.ctx, query, sink, sdk::NsRegistryNext());
      if (mismatch) return true;
      if (watch.ctx.cancelled()) break;
      if (!status.ok()) {
        NSM_LOG(kDebug) << "netsvc_monitor " << conn.id() << ": watch of " << conn.network_service()
                        << " ended: " << status;
      }
      watch.ctx.WaitCancelled(options.retry_interval);
    }
    return false;
  }

  void Run(const std::shared_ptr<Watch>& watch) const {
    if (WatchUntilMismatch(*watch) && !watch->stopped) {
      NSM_LOG(kInfo) << "connection " << conn.id() << ": endpoint "
                     << conn.network_service_endpoint_name() << " no longer matches "
                     << conn.network_service() << "; closing it";
      if (auto events = factory.lock()) {
        sdk::EventOptions options;
        // A newer Request or a Close that got there first made this Close stale.
        options.cancelled = [watch] { return watch->stopped.load(); };
        absl::Status status = events->Close(options);
        if (!status.ok()) {
          NSM_LOG(kWarn) << "connection " << conn.id() << ": close: " << status;
        }
      }
    }
    watch->finished = true;
  }
};

NetsvcMonitor::NetsvcMonitor(std::shared_ptr<sdk::NsRegistryElement> ns_registry,
                             std::shared_ptr<sdk::NseRegistryElement> nse_registry,
                             NetsvcMonitorOptions options)
    : ns_registry_(std::move(ns_registry)),
      nse_registry_(std::move(nse_registry)),
      options_(options) {}

NetsvcMonitor::~NetsvcMonitor() {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, watch] : watches_) ids.push_back(id);
  }
  for (const auto& id : ids) Stop(id);
  Reap(/*all=*/true);
}

absl::StatusOr<connection::Connection> NetsvcMonitor::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  const std::string id = request.connection().id();
  Stop(id);
  Reap(/*all=*/false);
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;

  std::shared_ptr<sdk::EventFactory> factory = sdk::EventFactory::FromContext(ctx);
  if (factory == nullptr || conn->network_service_endpoint_name().empty()) return conn;
  std::optional<absl::Time> until = EarliestExpiry(*conn);
  if (until && *until <= ctx.Now()) return conn;

  auto watch = std::make_shared<Watch>(ctx.clock());
  if (until) {
    std::weak_ptr<Watch> weak = watch;
    watch->until_expiry = ctx.clock().AfterFunc(*until - ctx.Now(), [weak] {
      if (auto w = weak.lock()) w->ctx.Cancel();
    });
  }
  WatchJob job{ns_registry_, nse_registry_, options_, *conn, factory};
  // The thread holds only shared state, never this element.
  watch->thread = std::thread([job = std::move(job), watch] { job.Run(watch); });
  std::lock_guard lock(mu_);
  watches_[id] = std::move(watch);
  return conn;
}

absl::Status NetsvcMonitor::Close(sdk::Context& ctx, connection::Connection& conn,
                                  const sdk::NetworkServiceNext& next) {
  Stop(conn.id());
  return next.Close(ctx, conn);
}

void NetsvcMonitor::Stop(const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = watches_.find(id);
  if (it == watches_.end()) return;
  std::shared_ptr<Watch> watch = std::move(it->second);
  watches_.erase(it);
  watch->stopped = true;
  watch->ctx.Cancel();
  if (watch->until_expiry) watch->until_expiry->Stop();
  // Not joined here: the watch thread may be waiting for this connection's executor, which the
  // caller holds.
  stopped_.push_back(std::move(watch));
}

void NetsvcMonitor::Reap(bool all) {
  std::vector<std::shared_ptr<Watch>> joinable;
  {
    std::lock_guard lock(mu_);
    auto done = [all](const std::shared_ptr<Watch>& w) { return all || w->finished.load(); };
    for (auto& w : stopped_) {
      if (done(w)) joinable.push_back(w);
    }
    std::erase_if(stopped_, done);
  }
  for (auto& w : joinable) {
    if (!w->thread.joinable()) continue;
    if (w->thread.get_id() == std::this_thread::get_id()) {
      w->thread.detach();  // the last owner of the chain let go on the watch thread itself
    } else {
      w->thread.join();
    }
  }
}

size_t NetsvcMonitor::watching() const {
  std::lock_guard lock(mu_);
  return watches_.size();
}

}  // namespace nsmcert::nsmgr
