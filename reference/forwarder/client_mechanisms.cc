#include "reference/forwarder/client_mechanisms.h"

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/mechanism_checks.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/mechanism_params.h"
#include "reference/sdk/tools/url.h"

namespace nsmcert::forwarder {
namespace {

namespace param = api::param;

}  // namespace

ClientMechanisms::ClientMechanisms(ClientMechanismsOptions options)
    : options_(std::move(options)) {}

void ClientMechanisms::FillVxlan(connection::Mechanism& mechanism) const {
  SetParam(mechanism, param::kSrcIp, options_.tunnel_ip);
  SetParam(mechanism, param::kSrcPort, std::to_string(options_.port));
  absl::StatusOr<std::uint32_t> current = MtuParam(mechanism);
  const std::uint32_t mtu = sdk::tools::MinMtu(current.ok() ? *current : 0, options_.tunnel_mtu);
  if (mtu != 0) SetParam(mechanism, param::kMtu, std::to_string(mtu));
}

absl::StatusOr<connection::Connection> ClientMechanisms::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  const bool ethernet = request.connection().payload() == api::payload::kEthernet;
  if (auto url = ctx.values().Get<sdk::ClientUrl>();
      url != nullptr && !url->url.empty() && !sdk::tools::IsLocalUrlText(url->url) && !ethernet) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no remote mechanism for payload \"", request.connection().payload(), "\" toward ",
        url->url,
        ": this forwarder tunnels ETHERNET payloads over VXLAN only (no WireGuard or IPsec)"));
  }

  connection::Mechanism* kernel = request.add_mechanism_preferences();
  kernel->set_cls(std::string(api::cls::kLocal));
  kernel->set_type(std::string(api::mechanism::kKernel));
  if (ethernet) {
    connection::Mechanism* vxlan = request.add_mechanism_preferences();
    vxlan->set_cls(std::string(api::cls::kRemote));
    vxlan->set_type(std::string(api::mechanism::kVxlan));
    FillVxlan(*vxlan);
  }
  connection::Mechanism* current = request.mutable_connection()->mutable_mechanism();
  if (current->type() == api::mechanism::kVxlan) FillVxlan(*current);
  if (current->type().empty()) request.mutable_connection()->clear_mechanism();
  return next.Request(ctx, request);
}

}  // namespace nsmcert::forwarder
