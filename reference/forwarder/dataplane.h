// dataplane (forwarder, server side): programs the kernel for a connection once the rest of the
// chain returned it, and takes it out again on Close (DESIGN.md "Data path").
//
// Guarantees:
// - Request: after `next` succeeded, the plans are built from the returned connection (its
//   mechanism is the incoming one, its context the endpoint's IP context and MTU) and the next
//   hop's mechanism (ClientMechanism in the client-side connection metadata, kept by
//   mechanism_translation). A first Request applies them; if building or applying fails, the
//   connection is closed downstream (the undo rule) and the error returned (it names the side,
//   the mechanism parameter or IP context field, or the kernel object at fault); the kernel is as
//   before. A Request for a connection this element already programmed (a refresh) moves the
//   kernel to the new plans (nothing changes when they are the same); if building or moving fails
//   the error is returned and the connection stays established, with what the kernel now holds
//   remembered.
// - A first Request whose forwarder-side device names another live connection already uses is
//   refused (ALREADY_EXISTS) after closing downstream.
// - Close: takes out exactly what was applied for the connection, then closes downstream, even if
//   taking out failed; returns the first error. Unknown connections just close downstream.
// - State is kept per connection id in this element, so after a restart of the process nothing is
//   remembered: a later Request for the same connection id removes the devices an earlier run left
//   behind under its names (see KernelDataplane) and programs them anew.
//
// Chain placement: the forwarder's server chain after the mechanism handlers (which validate and
// fill the incoming mechanism), right before the client chain (connect).
// Threading: thread-safe; begin serialises calls per connection.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "reference/forwarder/connection_plans.h"
#include "reference/forwarder/kernel_dataplane.h"
#include "reference/forwarder/tunnel.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::forwarder {

struct DataplaneOptions {
  // The forwarder's namespace as a reference a NetNsResolver understands; "" = the namespace of
  // the thread that applies (the daemon's own).
  std::string forwarder_netns;
  TunnelConfig tunnel;
};

class Dataplane final : public sdk::NetworkServiceElement {
 public:
  Dataplane(std::shared_ptr<DataplaneApplier> applier, DataplaneOptions options);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // The plans held for a connection id (tests, diagnostics).
  std::optional<ConnectionPlans> Held(const std::string& connection_id) const;
  size_t size() const;

 private:
  absl::Status DeviceNamesFree(const std::string& connection_id,
                               const ConnectionPlans& plans) const;

  std::shared_ptr<DataplaneApplier> applier_;
  DataplaneOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, ConnectionPlans> held_;
};

}  // namespace nsmcert::forwarder
