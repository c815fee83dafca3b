#include "reference/nsc/client.h"

#include <map>
#include <mutex>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "reference/nsc/kernel_mechanism.h"
#include "reference/nsc/redial.h"
#include "reference/sdk/daemon/log.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/clientinfo.h"
#include "reference/sdk/elements/clienturl.h"
#include "reference/sdk/elements/excludedprefixes.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/refresh.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/network_service_client.h"

namespace nsmcert::nsc {
namespace {

using sdk::NetworkServiceElement;
template <typename T, typename... Args>
std::shared_ptr<NetworkServiceElement> E(Args&&... args) {
  return std::make_shared<T>(std::forward<Args>(args)...);
}

// Logs a connection's path when it is new or changed (first request, heal, reselect; a reselect's
// Close drops the record, so a reselect always logs): the endpoint, the hops and the addresses.
// Refreshes that change nothing are quiet.
class PathChangeLog final : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    auto conn = next.Request(ctx, request);
    if (!conn.ok()) return conn;
    const std::string now = Describe(*conn);
    std::shared_ptr<sdk::ValueMap> metadata = ctx.connection_metadata(/*client_side=*/true);
    if (metadata == nullptr) return conn;
    auto last = metadata->GetOrCreate<LastPath>();
    if (last->text != now) {
      NSM_LOG(kInfo) << conn->id() << " connected: " << now;
      last->text = now;
    }
    return conn;
  }

 private:
  struct LastPath {
    std::string text;
  };
  static std::string Describe(const connection::Connection& conn) {
    const auto& segments = conn.path().path_segments();
    std::vector<std::string> names;
    for (const auto& segment : segments) names.push_back(segment.name());
    const auto& ip = conn.context().ip_context();
    return absl::StrCat("endpoint ", conn.network_service_endpoint_name(), ", path ",
                        absl::StrJoin(names, " > "), ", src ",
                        absl::StrJoin(ip.src_ip_addrs(), ","), ", dst ",
                        absl::StrJoin(ip.dst_ip_addrs(), ","));
  }
};

// Heal's liveness question, logged: at most every few seconds per connection, since heal asks
// again on every retry while the nsmgr is away.
class LoggedLiveness {
 public:
  explicit LoggedLiveness(std::function<bool(const connection::Connection&)> check)
      : check_(std::move(check)) {}
  bool operator()(const connection::Connection& conn) {
    const bool alive = check_ && check_(conn);
    const absl::Time now = absl::Now();
    {
      std::lock_guard lock(state_->mu);
      absl::Time& last = state_->logged[conn.id()];
      if (now - last < absl::Seconds(5)) return alive;
      last = now;
    }
    NSM_LOG(kWarn) << "heal " << conn.id() << ": the control plane broke; "
                   << (!check_ ? "no data-path check, reselecting"
                       : alive ? "the data path is alive, requesting the same path again"
                               : "the data path is dead, reselecting");
    return alive;
  }

 private:
  struct State {
    std::mutex mu;
    std::map<std::string, absl::Time> logged;
  };
  std::function<bool(const connection::Connection&)> check_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

absl::Status Required(bool present, const char* option) {
  if (present) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("client option ", option, ": required"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NscClient>> NscClient::Create(NscOptions options) {
  for (absl::Status s :
       {Required(!options.name.empty(), "name"),
        Required(!options.connect_to.empty(), "connect_to"),
        Required(options.signer != nullptr, "signer"),
        Required(!options.netns_url.empty(), "netns_url"),
        Required(options.clock != nullptr, "clock"), Required(options.env != nullptr, "env")}) {
    if (!s.ok()) return s;
  }
  if (auto target = sdk::GrpcTarget(options.connect_to); !target.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("client option connect_to: ", target.status().message()));
  }
  std::unique_ptr<NscClient> client(new NscClient());
  NscClient& c = *client;
  c.options_ = std::move(options);
  NscOptions& o = c.options_;
  if (o.channels == nullptr) o.channels = std::make_shared<sdk::ChannelPool>();
  if (o.connect == nullptr) o.connect = std::make_shared<sdk::NetworkServiceGrpcClient>(o.channels);
  if (!o.monitor) o.monitor = sdk::GrpcConnectionEventStreamOpener(o.channels);

  std::vector<std::shared_ptr<NetworkServiceElement>> elements = {
      // The path starts here: segment {name, connection id}.
      E<sdk::UpdatePath>(o.name),
      // Serialises calls per connection; refresh and heal fire their events through it.
      E<sdk::Begin>(sdk::Begin::Side::kClient),
      E<sdk::ConnectionMetadata>(),
      E<PathChangeLog>(),
  };
  sdk::RefreshOptions refresh;
  refresh.retry_interval = o.retry_interval;
  elements.push_back(E<sdk::Refresh>(refresh));
  // Heal follows the monitor at this URL; connect dials it.
  elements.push_back(E<sdk::ClientUrlElement>(o.connect_to));
  if (o.heal) {
    sdk::HealOptions heal;
    // Asked once per control-plane break; the answer decides re-request or reselect, so say it.
    heal.liveness = LoggedLiveness(o.liveness);
    heal.retry_interval = o.retry_interval;
    c.heal_ = std::make_shared<sdk::Heal>(o.monitor, heal);
    elements.push_back(c.heal_);
    if (o.liveness && o.liveness_interval > absl::ZeroDuration()) {
      DataPathMonitorOptions data_path;
      data_path.liveness = o.liveness;
      data_path.interval = o.liveness_interval;
      c.data_path_ = std::make_shared<DataPathMonitor>(data_path);
      elements.push_back(c.data_path_);
    }
  }
  // Labels before the request leaves: the nsmgr's and forwarder's matches read them.
  elements.push_back(E<sdk::ClientInfo>(o.env));
  elements.push_back(E<KernelMechanismClient>(o.netns_url));
  // Keeps this client's connections from getting overlapping addresses.
  elements.push_back(E<sdk::ExcludedPrefixesClient>());
  elements.push_back(E<sdk::UpdateTokenClient>(o.signer));
  // An nsmgr that could not be reached is dialled afresh next time (it may have restarted).
  elements.push_back(E<Redial>(o.channels));
  elements.push_back(o.connect);
  auto chain = sdk::NetworkServiceChain::Make(std::move(elements));
  if (!chain.ok()) return chain.status();
  c.chain_ = *chain;
  return client;
}

NscClient::~NscClient() = default;

absl::StatusOr<connection::Connection> NscClient::Request(
    networkservice::NetworkServiceRequest request, absl::Duration timeout) {
  sdk::Context ctx(*options_.clock);
  ctx.set_deadline(ctx.Now() + timeout);
  auto conn = chain_->Request(ctx, request);
  if (!conn.ok()) return conn;
  std::lock_guard lock(mu_);
  requested_[conn->id()] = *conn;
  return conn;
}

absl::StatusOr<connection::Connection> NscClient::RequestUntilConnected(
    const networkservice::NetworkServiceRequest& request, absl::Duration attempt_timeout,
    absl::Duration give_up, const sdk::Context& lifetime,
    const std::function<void(const absl::Status&)>& on_failure) {
  const absl::Time end = give_up == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                             : options_.clock->Now() + give_up;
  for (;;) {
    if (lifetime.cancelled()) {
      return absl::CancelledError(
          absl::StrCat("requesting ", request.connection().network_service(), ": cancelled"));
    }
    absl::Duration timeout = attempt_timeout;
    if (end != absl::InfiniteFuture()) timeout = std::min(timeout, end - options_.clock->Now());
    absl::StatusOr<connection::Connection> conn = Request(request, timeout);
    if (conn.ok()) return conn;
    if (on_failure) on_failure(conn.status());
    if (options_.clock->Now() + options_.retry_interval >= end) return conn.status();
    if (lifetime.WaitCancelled(options_.retry_interval)) {
      return absl::CancelledError(
          absl::StrCat("requesting ", request.connection().network_service(), ": cancelled"));
    }
  }
}

absl::Status NscClient::Close(const connection::Connection& conn, absl::Duration timeout) {
  sdk::Context ctx(*options_.clock);
  ctx.set_deadline(ctx.Now() + timeout);
  connection::Connection closing = conn;
  absl::Status status = chain_->Close(ctx, closing);
  std::lock_guard lock(mu_);
  requested_.erase(conn.id());
  return status;
}

absl::Status NscClient::CloseAll(absl::Duration timeout) {
  std::map<std::string, connection::Connection> all;
  {
    std::lock_guard lock(mu_);
    all = requested_;
  }
  absl::Status first;
  for (const auto& [id, conn] : all) {
    absl::Status status = Close(conn, timeout);
    if (first.ok() && !status.ok()) first = status;
  }
  return first;
}

}  // namespace nsmcert::nsc
