#include "reference/forwarder/vxlan_server.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/forwarder/mechanism_checks.h"
#include "reference/sdk/tools/cidr.h"

namespace nsmcert::forwarder {
namespace {

namespace param = api::param;

bool SameFamily(const std::string& a, const std::string& b) {
  auto x = sdk::tools::IpAddress::Parse(a);
  auto y = sdk::tools::IpAddress::Parse(b);
  return x.ok() && y.ok() && x->family() == y->family();
}

}  // namespace

VxlanServer::VxlanServer(VxlanServerOptions options)
    : options_(std::move(options)), vnis_(options_.random) {}

absl::StatusOr<connection::Connection> VxlanServer::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  connection::Connection& conn = *request.mutable_connection();
  connection::Mechanism& mechanism = *conn.mutable_mechanism();

  auto src_ip = IpParam(mechanism, param::kSrcIp);
  if (!src_ip.ok()) return src_ip.status();
  if (!SameFamily(*src_ip, options_.tunnel_ip)) {
    return ParamError(mechanism, param::kSrcIp,
                      absl::StrCat(*src_ip, " is not of the family of this node's tunnel address ",
                                   options_.tunnel_ip));
  }
  if (auto port = PortParam(mechanism, param::kSrcPort, options_.port); !port.ok()) {
    return port.status();
  }
  auto peer_mtu = MtuParam(mechanism);
  if (!peer_mtu.ok()) return peer_mtu.status();

  SetParam(mechanism, param::kDstIp, options_.tunnel_ip);
  SetParam(mechanism, param::kDstPort, std::to_string(options_.port));
  const std::uint32_t mtu = sdk::tools::MinMtu(*peer_mtu, options_.tunnel_mtu);
  if (mtu != 0) {
    SetParam(mechanism, param::kMtu, std::to_string(mtu));
    auto* context = conn.mutable_context();
    if (context->mtu() == 0 || context->mtu() > mtu) context->set_mtu(mtu);
  }

  if (HasParam(mechanism, param::kVni)) {
    // A VNI chosen earlier (by this server on a previous Request, or by the peer) must follow the
    // parity rule; Assign below then just remembers it.
    if (auto vni = VniParam(mechanism); !vni.ok()) return vni.status();
  }
  auto vni = vnis_.Assign(mechanism);
  if (!vni.ok()) return vni.status();

  const std::string id = conn.id();
  std::optional<connection::Mechanism> before;
  {
    std::lock_guard lock(mu_);
    if (auto it = held_.find(id); it != held_.end()) before = it->second;
  }
  absl::StatusOr<connection::Connection> result = next.Request(ctx, request);
  std::lock_guard lock(mu_);
  const bool same_as_before = before.has_value() &&
                              Param(*before, param::kVni) == Param(mechanism, param::kVni) &&
                              Param(*before, param::kSrcIp) == Param(mechanism, param::kSrcIp);
  if (result.ok()) {
    if (before.has_value() && !same_as_before) vnis_.Release(*before);
    held_[id] = mechanism;
  } else if (!same_as_before) {
    // Keep what an established connection holds; give back what this attempt took.
    vnis_.Release(mechanism);
  }
  return result;
}

absl::Status VxlanServer::Close(sdk::Context& ctx, connection::Connection& conn,
                                const sdk::NetworkServiceNext& next) {
  absl::Status status = next.Close(ctx, conn);
  std::lock_guard lock(mu_);
  // Only what this connection holds: a Close must not free a VNI of another connection.
  if (auto it = held_.find(conn.id()); it != held_.end()) {
    vnis_.Release(it->second);
    held_.erase(it);
  }
  return status;
}

}  // namespace nsmcert::forwarder
