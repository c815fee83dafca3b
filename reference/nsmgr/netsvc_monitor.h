// netsvc_monitor (nsmgr, server side): closes a connection whose endpoint no longer matches its
// network service after the service changed (spec §9.4), so the client's heal reselects.
//
// Guarantees:
// - After a successful Request (with begin's EventFactory in the context), the network service is
//   watched (registry Find, watch=true, by name) until the earliest expiry of the returned path's
//   segments, on the context's clock. A refresh replaces the watch; Close stops it.
// - On every version of the service the watch delivers, the connection's endpoint is looked up by
//   name; if it is registered and no longer fits the service's matches for the connection's labels
//   (tools::MatchEndpoint), the connection is closed through begin's EventFactory (so every
//   element after begin sees the Close and the monitor emits DELETE), and the watch ends. An
//   endpoint the registry does not know (any more) is left alone.
// - A watch that fails (registry unreachable) is reopened after `retry_interval` (real time).
//
// Threading: one thread per watched connection. Stopped watches are joined lazily and on
// destruction. A Close fired by a watch that a newer Request or Close stopped does nothing.
//
// Chain placement: the nsmgr's server chain after begin and discover_forwarder (so that it sees
// the endpoint the path reached), before the client chain.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::nsmgr {

struct NetsvcMonitorOptions {
  absl::Duration retry_interval = absl::Milliseconds(100);
  // Upper bound for each endpoint lookup; zero = none.
  absl::Duration registry_call_timeout = absl::ZeroDuration();
};

class NetsvcMonitor final : public sdk::NetworkServiceElement {
 public:
  NetsvcMonitor(std::shared_ptr<sdk::NsRegistryElement> ns_registry,
                std::shared_ptr<sdk::NseRegistryElement> nse_registry,
                NetsvcMonitorOptions options = {});
  ~NetsvcMonitor() override;

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // Number of connections whose service is being watched.
  size_t watching() const;

 private:
  struct Watch;
  struct WatchJob;
  void Stop(const std::string& id);
  // Joins stopped watches whose threads have finished; mu_ must not be held.
  void Reap(bool all);

  std::shared_ptr<sdk::NsRegistryElement> ns_registry_;
  std::shared_ptr<sdk::NseRegistryElement> nse_registry_;
  NetsvcMonitorOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Watch>> watches_;
  std::vector<std::shared_ptr<Watch>> stopped_;
};

}  // namespace nsmcert::nsmgr
