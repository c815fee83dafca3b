#include "reference/forwarder/mechanism_translation.h"

namespace nsmcert::forwarder {

absl::StatusOr<connection::Connection> MechanismTranslation::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  std::shared_ptr<sdk::ValueMap> metadata = ctx.connection_metadata(/*client_side=*/true);
  if (metadata == nullptr) {
    return absl::FailedPreconditionError(
        "mechanism_translation: no connection metadata (the metadata element must run first)");
  }
  networkservice::NetworkServiceRequest outgoing = request;
  outgoing.clear_mechanism_preferences();
  if (auto kept = metadata->Get<ClientMechanism>(); kept != nullptr) {
    *outgoing.mutable_connection()->mutable_mechanism() = kept->mechanism;
  } else {
    outgoing.mutable_connection()->clear_mechanism();
  }
  absl::StatusOr<connection::Connection> conn = next.Request(ctx, outgoing);
  if (!conn.ok()) return conn;
  metadata->Set(std::make_shared<ClientMechanism>(ClientMechanism{conn->mechanism()}));
  if (request.connection().has_mechanism()) {
    *conn->mutable_mechanism() = request.connection().mechanism();
  } else {
    conn->clear_mechanism();
  }
  return conn;
}

absl::Status MechanismTranslation::Close(sdk::Context& ctx, connection::Connection& conn,
                                         const sdk::NetworkServiceNext& next) {
  connection::Connection outgoing = conn;
  std::shared_ptr<sdk::ValueMap> metadata = ctx.connection_metadata(/*client_side=*/true);
  std::shared_ptr<ClientMechanism> kept =
      metadata != nullptr ? metadata->Get<ClientMechanism>() : nullptr;
  if (kept != nullptr) {
    *outgoing.mutable_mechanism() = kept->mechanism;
    metadata->Erase<ClientMechanism>();
  } else {
    outgoing.clear_mechanism();
  }
  return next.Close(ctx, outgoing);
}

}  // namespace nsmcert::forwarder
