#include "reference/forwarder/netns_monitor.h"

#include <map>
#include <mutex>
#include <vector>

#include "nsmcert/api/constants.h"
#include "reference/forwarder/connection_plans.h"
#include "reference/forwarder/mechanism_translation.h"
#include "reference/kernel/netlink.h"
#include "reference/sdk/elements/begin.h"

namespace nsmcert::forwarder {

struct NetNsMonitor::State : std::enable_shared_from_this<State> {
  State(sdk::Clock& c, NetNsMonitorOptions o) : clock(c), options(std::move(o)) {}

  struct Watch {
    std::string device;
    std::weak_ptr<sdk::EventFactory> factory;
    int misses = 0;
  };

  sdk::Clock& clock;
  NetNsMonitorOptions options;
  mutable std::mutex mu;
  std::map<std::string, Watch> watches;  // by connection id
  std::unique_ptr<sdk::Timer> timer;
  bool stopped = false;
  std::mutex netlink_mu;
  std::unique_ptr<kernel::Netlink> netlink;

  absl::StatusOr<std::set<std::string>> ListDevices() {
    if (options.list_devices) return options.list_devices();
    std::lock_guard lock(netlink_mu);
    if (netlink == nullptr) {
      kernel::ProcNetNsResolver proc;
      kernel::NetNsResolver* resolver = options.resolver != nullptr ? options.resolver : &proc;
      auto ns = resolver->Resolve(options.forwarder_netns);
      if (!ns.ok()) return ns.status();
      auto nl = kernel::Netlink::Open(*ns);
      if (!nl.ok()) return nl.status();
      netlink = *std::move(nl);
    }
    auto links = netlink->ListLinks();
    if (!links.ok()) return links.status();
    std::set<std::string> names;
    for (const auto& link : *links) names.insert(link.name);
    return names;
  }

  // Called with `mu` held.
  void ArmLocked() {
    if (timer != nullptr || stopped || watches.empty()) return;
    std::weak_ptr<State> weak = weak_from_this();
    timer = clock.AfterFunc(options.interval, [weak] {
      if (auto self = weak.lock()) self->Poll();
    });
  }

  void Poll() {
    {
      std::lock_guard lock(mu);
      timer.reset();
    }
    absl::StatusOr<std::set<std::string>> devices = ListDevices();
    std::vector<std::shared_ptr<sdk::EventFactory>> to_close;
    {
      std::lock_guard lock(mu);
      if (devices.ok()) {
        for (auto it = watches.begin(); it != watches.end();) {
          Watch& w = it->second;
          w.misses = devices->contains(w.device) ? 0 : w.misses + 1;
          if (w.misses >= 2) {
            if (auto factory = w.factory.lock()) to_close.push_back(std::move(factory));
            it = watches.erase(it);
          } else {
            ++it;
          }
        }
      }
      ArmLocked();
    }
    // Outside the lock: the Close runs through the chain, which comes back to this element.
    for (const auto& factory : to_close) (void)factory->Close();
  }
};

NetNsMonitor::NetNsMonitor(sdk::Clock& clock, NetNsMonitorOptions options)
    : state_(std::make_shared<State>(clock, std::move(options))) {}

NetNsMonitor::~NetNsMonitor() {
  std::lock_guard lock(state_->mu);
  state_->stopped = true;
  if (state_->timer != nullptr) state_->timer->Stop();
  state_->timer.reset();
}

absl::StatusOr<connection::Connection> NetNsMonitor::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  absl::StatusOr<connection::Connection> conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  std::shared_ptr<sdk::ValueMap> client = ctx.connection_metadata(/*client_side=*/true);
  std::shared_ptr<ClientMechanism> outgoing =
      client != nullptr ? client->Get<ClientMechanism>() : nullptr;
  std::shared_ptr<sdk::EventFactory> factory = sdk::EventFactory::FromContext(ctx);
  std::lock_guard lock(state_->mu);
  if (outgoing == nullptr || outgoing->mechanism.type() != api::mechanism::kKernel ||
      factory == nullptr) {
    state_->watches.erase(conn->id());
    return conn;
  }
  State::Watch& watch = state_->watches[conn->id()];
  watch.device = DeviceNamesFor(conn->id()).outgoing;
  watch.factory = factory;
  watch.misses = 0;
  state_->ArmLocked();
  return conn;
}

absl::Status NetNsMonitor::Close(sdk::Context& ctx, connection::Connection& conn,
                                 const sdk::NetworkServiceNext& next) {
  {
    std::lock_guard lock(state_->mu);
    state_->watches.erase(conn.id());
  }
  return next.Close(ctx, conn);
}

size_t NetNsMonitor::watched() const {
  std::lock_guard lock(state_->mu);
  return state_->watches.size();
}

}  // namespace nsmcert::forwarder
