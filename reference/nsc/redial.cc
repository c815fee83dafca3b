#include "reference/nsc/redial.h"

namespace nsmcert::nsc {

Redial::Redial(std::shared_ptr<sdk::ChannelPool> channels) : channels_(std::move(channels)) {}

void Redial::ForgetOn(const absl::Status& status, sdk::Context& ctx) {
  if (status.code() != absl::StatusCode::kUnavailable &&
      status.code() != absl::StatusCode::kDeadlineExceeded) {
    return;
  }
  auto url = ctx.values().Get<sdk::ClientUrl>();
  if (url != nullptr && !url->url.empty()) channels_->Forget(url->url);
}

absl::StatusOr<connection::Connection> Redial::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) ForgetOn(conn.status(), ctx);
  return conn;
}

absl::Status Redial::Close(sdk::Context& ctx, connection::Connection& conn,
                           const sdk::NetworkServiceNext& next) {
  absl::Status status = next.Close(ctx, conn);
  ForgetOn(status, ctx);
  return status;
}

}  // namespace nsmcert::nsc
