#include "reference/nse/ipam.h"

#include "absl/strings/str_cat.h"

namespace nsmcert::nse {

absl::StatusOr<std::shared_ptr<IpamServer>> IpamServer::Create(std::string_view cidr_prefix,
                                                               sdk::tools::IpamPolicy policy) {
  auto ipam = sdk::tools::GroupIpam::FromCidrPrefix(cidr_prefix, policy);
  if (!ipam.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("ipam: CIDR prefix \"", std::string(cidr_prefix),
                                                   "\": ", ipam.status().message()));
  }
  return std::shared_ptr<IpamServer>(new IpamServer(*std::move(ipam)));
}

absl::StatusOr<connection::Connection> IpamServer::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  connection::Connection& conn = *request.mutable_connection();
  const std::string id = conn.id();
  auto allocations = ipam_->Request(id, *conn.mutable_context()->mutable_ip_context());
  if (!allocations.ok()) {
    return absl::Status(allocations.status().code(), absl::StrCat("ipam: connection ", id, ": ",
                                                                  allocations.status().message()));
  }
  auto result = next.Request(ctx, request);
  if (!result.ok()) ipam_->Undo(id, *allocations);
  return result;
}

absl::Status IpamServer::Close(sdk::Context& ctx, connection::Connection& conn,
                               const sdk::NetworkServiceNext& next) {
  absl::Status status = next.Close(ctx, conn);
  ipam_->Close(conn.id());
  return status;
}

}  // namespace nsmcert::nse
