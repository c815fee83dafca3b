#include "reference/nse/kernel_mechanism.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::nse {

KernelMechanismServer::KernelMechanismServer(
    std::string netns_url, std::function<std::string(const std::string&)> generate_name)
    : netns_url_(std::move(netns_url)), generate_name_(std::move(generate_name)) {
  if (!generate_name_) {
    generate_name_ = [](const std::string& service) {
      return sdk::tools::GenerateInterfaceName(service);
    };
  }
}

absl::StatusOr<connection::Connection> KernelMechanismServer::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  connection::Connection& conn = *request.mutable_connection();
  if (conn.has_mechanism() && conn.mechanism().type() == api::mechanism::kKernel) {
    auto& params = *conn.mutable_mechanism()->mutable_parameters();
    params[std::string(api::param::kInodeUrl)] = netns_url_;
    std::string& name = params[std::string(api::param::kName)];
    if (name.empty()) name = generate_name_(conn.network_service());
    if (absl::Status valid = sdk::tools::ValidateInterfaceName(name); !valid.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("kernel mechanism: parameter name: ", valid.message()));
    }
  }
  return next.Request(ctx, request);
}

}  // namespace nsmcert::nse
