#include "reference/sdk/elements/trimpath.h"

#include "reference/sdk/tools/path.h"

namespace nsmcert::sdk {
namespace {

// Set in the call's values by a client that forwarded the request (the values are shared by the
// whole call, so the server element sees it on the way back).
struct Forwarded {};

}  // namespace

absl::StatusOr<connection::Connection> TrimPathServer::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  ctx.values().Erase<Forwarded>();
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  if (ctx.values().Get<Forwarded>() == nullptr) {
    tools::TrimPath(*conn);
  } else {
    ctx.values().Erase<Forwarded>();
  }
  return conn;
}

absl::StatusOr<connection::Connection> TrimPathClient::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (conn.ok()) ctx.values().Set(std::make_shared<Forwarded>());
  return conn;
}

}  // namespace nsmcert::sdk
