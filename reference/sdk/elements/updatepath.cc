#include "reference/sdk/elements/updatepath.h"

#include "absl/strings/str_cat.h"

namespace nsmcert::sdk {
namespace {

absl::Status Annotate(const absl::Status& s, const std::string& name) {
  return absl::Status(s.code(), absl::StrCat("updatepath (", name, "): ", s.message()));
}

}  // namespace

UpdatePath::UpdatePath(std::string name, tools::IdGenerator new_id)
    : name_(std::move(name)), new_id_(std::move(new_id)) {}

absl::StatusOr<connection::Connection> UpdatePath::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto caller_index = tools::UpdatePath(*request.mutable_connection(), name_, new_id_);
  if (!caller_index.ok()) return Annotate(caller_index.status(), name_);
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  connection::Connection own_view = *conn;
  if (absl::Status s = tools::RestorePath(*conn, *caller_index); !s.ok()) {
    (void)next.Close(ctx, own_view);  // undo: the caller could never close what it cannot address
    return Annotate(s, name_);
  }
  return conn;
}

absl::Status UpdatePath::Close(Context& ctx, connection::Connection& conn,
                               const NetworkServiceNext& next) {
  auto caller_index = tools::UpdatePath(conn, name_, new_id_);
  if (!caller_index.ok()) return Annotate(caller_index.status(), name_);
  absl::Status status = next.Close(ctx, conn);
  (void)tools::RestorePath(conn, *caller_index);  // best effort: the caller's view for its records
  return status;
}

}  // namespace nsmcert::sdk
