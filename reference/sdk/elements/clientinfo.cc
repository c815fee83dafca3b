#include "reference/sdk/elements/clientinfo.h"

namespace nsmcert::sdk {

ClientInfo::ClientInfo(tools::EnvLookup env) : env_(std::move(env)) {}

absl::StatusOr<connection::Connection> ClientInfo::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  tools::AddClientInfo(*request.mutable_connection()->mutable_labels(), env_);
  return next.Request(ctx, request);
}

}  // namespace nsmcert::sdk
