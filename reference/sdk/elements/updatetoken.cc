#include "reference/sdk/elements/updatetoken.h"

#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/path.h"

namespace nsmcert::sdk {
namespace {

std::vector<std::string_view> Values(const Metadata& metadata, std::string_view key) {
  std::vector<std::string_view> out;
  auto [begin, end] = metadata.equal_range(std::string(key));
  for (auto it = begin; it != end; ++it) out.push_back(it->second);
  return out;
}

absl::Status Annotate(const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat("updatetoken: ", s.message()));
}

}  // namespace

UpdateTokenServer::UpdateTokenServer(std::shared_ptr<tools::TokenSigner> signer)
    : signer_(std::move(signer)) {}

absl::Status UpdateTokenServer::Update(Context& ctx, connection::Connection& conn) {
  const Metadata& in = ctx.incoming_metadata();
  auto peer = tools::PeerTokenFromMetadata(Values(in, api::metadata::kClientToken),
                                           Values(in, api::metadata::kClientTokenExpires));
  auto own = signer_->Sign(ctx.peer_identity());
  if (!own.ok()) return Annotate(own.status());
  absl::Status s = tools::UpdateTokenServer(conn, peer.ok() ? &*peer : nullptr, *own);
  return s.ok() ? s : Annotate(s);
}

absl::StatusOr<connection::Connection> UpdateTokenServer::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  if (absl::Status s = Update(ctx, *request.mutable_connection()); !s.ok()) return s;
  return next.Request(ctx, request);
}

absl::Status UpdateTokenServer::Close(Context& ctx, connection::Connection& conn,
                                      const NetworkServiceNext& next) {
  if (absl::Status s = Update(ctx, conn); !s.ok()) return s;
  return next.Close(ctx, conn);
}

UpdateTokenClient::UpdateTokenClient(std::shared_ptr<tools::TokenSigner> signer)
    : signer_(std::move(signer)) {}

absl::Status UpdateTokenClient::Attach(Context& ctx) {
  auto next_hop = ctx.values().Get<NextHopIdentity>();
  auto token = signer_->Sign(next_hop ? next_hop->spiffe_id : "");
  if (!token.ok()) return Annotate(token.status());
  Metadata& out = ctx.outgoing_metadata();
  out.erase(std::string(api::metadata::kClientToken));
  out.erase(std::string(api::metadata::kClientTokenExpires));
  out.emplace(std::string(api::metadata::kClientToken), token->value);
  out.emplace(std::string(api::metadata::kClientTokenExpires),
              tools::FormatRfc3339Nano(token->expires));
  return absl::OkStatus();
}

absl::StatusOr<connection::Connection> UpdateTokenClient::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  if (absl::Status s = Attach(ctx); !s.ok()) return s;
  return next.Request(ctx, request);
}

absl::Status UpdateTokenClient::Close(Context& ctx, connection::Connection& conn,
                                      const NetworkServiceNext& next) {
  if (absl::Status s = Attach(ctx); !s.ok()) return s;
  return next.Close(ctx, conn);
}

}  // namespace nsmcert::sdk
