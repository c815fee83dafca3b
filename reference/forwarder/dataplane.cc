#include "reference/forwarder/dataplane.h"

#include "absl/strings/str_cat.h"
#include "reference/forwarder/mechanism_translation.h"

namespace nsmcert::forwarder {
namespace {

// Closes what the rest of the chain built, then reports `error` (the undo rule).
absl::Status Undo(sdk::Context& ctx, const sdk::NetworkServiceNext& next,
                  connection::Connection conn, const absl::Status& error) {
  (void)next.Close(ctx, conn);
  return error;
}

}  // namespace

Dataplane::Dataplane(std::shared_ptr<DataplaneApplier> applier, DataplaneOptions options)
    : applier_(std::move(applier)), options_(std::move(options)) {}

absl::Status Dataplane::DeviceNamesFree(const std::string& connection_id,
                                        const ConnectionPlans& plans) const {
  std::lock_guard lock(mu_);
  for (const auto& [id, held] : held_) {
    if (id == connection_id) continue;
    for (const std::string* name : {&plans.incoming.device(), &plans.outgoing.device()}) {
      if (*name == held.incoming.device() || *name == held.outgoing.device()) {
        return absl::AlreadyExistsError(absl::StrCat("forwarder device ", *name, " of connection ",
                                                     connection_id, " is in use by connection ",
                                                     id));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<connection::Connection> Dataplane::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  absl::StatusOr<connection::Connection> conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;

  std::shared_ptr<sdk::ValueMap> client = ctx.connection_metadata(/*client_side=*/true);
  std::shared_ptr<ClientMechanism> outgoing =
      client != nullptr ? client->Get<ClientMechanism>() : nullptr;
  if (outgoing == nullptr) {
    return Undo(ctx, next, *conn,
                absl::InternalError("dataplane: the next hop's mechanism is unknown "
                                    "(mechanism_translation must run in the client chain)"));
  }
  PlanInputs inputs;
  inputs.connection_id = conn->id();
  inputs.incoming = conn->mechanism();
  inputs.outgoing = outgoing->mechanism;
  inputs.context = conn->context();
  inputs.forwarder_netns = options_.forwarder_netns;
  inputs.tunnel = options_.tunnel;
  absl::StatusOr<ConnectionPlans> plans = BuildConnectionPlans(inputs);
  std::optional<ConnectionPlans> current = Held(conn->id());
  if (!plans.ok()) {
    // A refresh that cannot be programmed leaves the established connection as it is.
    return current.has_value() ? plans.status() : Undo(ctx, next, *conn, plans.status());
  }
  if (!current.has_value()) {
    if (absl::Status s = DeviceNamesFree(conn->id(), *plans); !s.ok()) {
      return Undo(ctx, next, *conn, s);
    }
    if (absl::Status s = applier_->Apply(*plans); !s.ok()) return Undo(ctx, next, *conn, s);
    std::lock_guard lock(mu_);
    held_[conn->id()] = *std::move(plans);
    return conn;
  }
  ConnectionPlans now_held;
  absl::Status updated = applier_->Update(*current, *plans, &now_held);
  {
    std::lock_guard lock(mu_);
    held_[conn->id()] = std::move(now_held);
  }
  if (!updated.ok()) return updated;
  return conn;
}

absl::Status Dataplane::Close(sdk::Context& ctx, connection::Connection& conn,
                              const sdk::NetworkServiceNext& next) {
  std::optional<ConnectionPlans> plans;
  {
    std::lock_guard lock(mu_);
    if (auto it = held_.find(conn.id()); it != held_.end()) {
      plans = std::move(it->second);
      held_.erase(it);
    }
  }
  absl::Status removed = plans.has_value() ? applier_->Remove(*plans) : absl::OkStatus();
  absl::Status closed = next.Close(ctx, conn);
  return removed.ok() ? closed : removed;
}

std::optional<ConnectionPlans> Dataplane::Held(const std::string& connection_id) const {
  std::lock_guard lock(mu_);
  auto it = held_.find(connection_id);
  if (it == held_.end()) return std::nullopt;
  return it->second;
}

size_t Dataplane::size() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

}  // namespace nsmcert::forwarder
