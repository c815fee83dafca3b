#include "reference/forwarder/kernel_server.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/mechanism_checks.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::forwarder {

KernelServer::KernelServer(kernel::NetNsResolver* resolver) : resolver_(resolver) {}

absl::StatusOr<connection::Connection> KernelServer::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  connection::Connection& conn = *request.mutable_connection();
  connection::Mechanism& mechanism = *conn.mutable_mechanism();
  if (absl::Status s = CheckNetNsParam(mechanism); !s.ok()) return s;
  const std::string url = Param(mechanism, api::param::kInodeUrl);
  absl::StatusOr<kernel::NetNs> ns = resolver_->Resolve(url);
  if (!ns.ok()) {
    return absl::Status(
        ns.status().code(),
        absl::StrCat(mechanism.type(), " mechanism parameter inodeURL: ", ns.status().message()));
  }
  if (Param(mechanism, api::param::kName).empty()) {
    SetParam(mechanism, api::param::kName,
             sdk::tools::GenerateInterfaceName(conn.network_service()));
  }
  if (absl::Status s = CheckInterfaceNameParam(mechanism); !s.ok()) return s;
  return next.Request(ctx, request);
}

}  // namespace nsmcert::forwarder
