#include "reference/sdk/elements/mechanisms.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace nsmcert::sdk {

Mechanisms::Mechanisms(std::map<std::string, std::shared_ptr<NetworkServiceElement>> handlers) {
  for (auto& [type, handler] : handlers) {
    if (handler != nullptr) handlers_.emplace(type, std::move(handler));
  }
}

absl::StatusOr<connection::Connection> Mechanisms::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  if (request.connection().has_mechanism()) {
    const std::string& type = request.connection().mechanism().type();
    auto it = handlers_.find(type);
    if (it == handlers_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported mechanism: connection.mechanism.type \"", type, "\""));
    }
    return it->second->Request(ctx, request, next);
  }
  std::vector<std::string> tried;
  std::vector<std::string> failures;
  // The code of the last handler that failed: the caller can tell "the endpoint is out of
  // addresses" or "the next hop is unreachable" from a request that no handler could take.
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  for (const auto& preference : request.mechanism_preferences()) {
    tried.push_back(preference.type());
    auto it = handlers_.find(preference.type());
    if (it == handlers_.end()) continue;
    networkservice::NetworkServiceRequest attempt = request;
    *attempt.mutable_connection()->mutable_mechanism() = preference;
    auto conn = it->second->Request(ctx, attempt, next);
    if (conn.ok()) {
      request = std::move(attempt);
      return conn;
    }
    failures.push_back(absl::StrCat(preference.type(), ": ", conn.status().message()));
    code = conn.status().code();
  }
  std::string message = absl::StrCat("cannot support any of the requested mechanisms [",
                                     absl::StrJoin(tried, ", "), "]");
  if (!failures.empty()) absl::StrAppend(&message, " (", absl::StrJoin(failures, "; "), ")");
  return absl::Status(code, message);
}

absl::Status Mechanisms::Close(Context& ctx, connection::Connection& conn,
                               const NetworkServiceNext& next) {
  auto it = handlers_.find(conn.mechanism().type());
  if (it != handlers_.end()) return it->second->Close(ctx, conn, next);
  // Still let the rest of the chain release what it holds.
  absl::Status rest = next.Close(ctx, conn);
  if (!rest.ok()) return rest;
  return absl::InvalidArgumentError(absl::StrCat(
      "unsupported mechanism: connection.mechanism.type \"", conn.mechanism().type(), "\""));
}

}  // namespace nsmcert::sdk
