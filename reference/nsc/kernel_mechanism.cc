#include "reference/nsc/kernel_mechanism.h"

#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::nsc {
namespace {

// The interface name generated for a connection, kept in its client-side metadata so that a
// refresh or a heal asks for the same interface.
struct GeneratedInterfaceName {
  std::string name;
};

}  // namespace

KernelMechanismClient::KernelMechanismClient(
    std::string netns_url, std::function<std::string(const std::string&)> generate_name)
    : netns_url_(std::move(netns_url)), generate_name_(std::move(generate_name)) {
  if (!generate_name_) {
    generate_name_ = [](const std::string& service) {
      return sdk::tools::GenerateInterfaceName(service);
    };
  }
}

absl::StatusOr<connection::Connection> KernelMechanismClient::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  const std::string kernel(api::mechanism::kKernel);
  const std::string inode_url(api::param::kInodeUrl);
  const std::string name_key(api::param::kName);
  auto name_for_connection = [&]() -> std::string {
    std::shared_ptr<sdk::ValueMap> metadata = ctx.connection_metadata(/*client_side=*/true);
    if (metadata == nullptr) return generate_name_(request.connection().network_service());
    auto generated = metadata->GetOrCreate<GeneratedInterfaceName>();
    if (generated->name.empty()) {
      generated->name = generate_name_(request.connection().network_service());
    }
    return generated->name;
  };

  bool has_kernel = false;
  for (connection::Mechanism& preference : *request.mutable_mechanism_preferences()) {
    if (preference.type() != kernel) continue;
    has_kernel = true;
    auto& params = *preference.mutable_parameters();
    params[inode_url] = netns_url_;
    if (params[name_key].empty()) params[name_key] = name_for_connection();
  }
  if (!has_kernel) {
    connection::Mechanism* preference = request.add_mechanism_preferences();
    preference->set_cls(std::string(api::cls::kLocal));
    preference->set_type(kernel);
    (*preference->mutable_parameters())[inode_url] = netns_url_;
    (*preference->mutable_parameters())[name_key] = name_for_connection();
  }
  connection::Connection& conn = *request.mutable_connection();
  if (conn.has_mechanism() && conn.mechanism().type() == kernel) {
    (*conn.mutable_mechanism()->mutable_parameters())[inode_url] = netns_url_;
  }
  return next.Request(ctx, request);
}

}  // namespace nsmcert::nsc
