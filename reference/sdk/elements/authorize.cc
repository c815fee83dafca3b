#include "reference/sdk/elements/authorize.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk {
namespace {

absl::Status Denied(absl::string_view policy, absl::string_view detail) {
  return absl::PermissionDeniedError(
      absl::StrCat("no sufficient privileges: ", policy, ": ", detail));
}

std::string SegmentName(const connection::Path& path, size_t i) {
  return absl::StrCat("segment ", i, " (", path.path_segments(static_cast<int>(i)).name(), ")");
}

}  // namespace

absl::Status CheckTokenPolicies(const TokenPolicies& policies, const connection::Path& path,
                                size_t end, size_t peer_segment, absl::Time now,
                                const PeerCertificate* peer_certificate, size_t expiry_from) {
  end = std::min(end, static_cast<size_t>(path.path_segments_size()));
  // Parse once; tokens that do not parse are only an error when a policy needs them.
  std::vector<std::optional<tools::JwtClaims>> claims(end);
  std::vector<absl::Status> parse_errors(end);
  for (size_t i = 0; i < end; ++i) {
    auto parsed = tools::ParseJwtUnverified(path.path_segments(static_cast<int>(i)).token());
    if (parsed.ok()) {
      claims[i] = parsed->claims;
    } else {
      parse_errors[i] = parsed.status();
    }
  }
  auto require_parsed = [&](absl::string_view policy, size_t i) -> absl::Status {
    if (claims[i].has_value()) return absl::OkStatus();
    return Denied(policy, absl::StrCat(SegmentName(path, i),
                                       " token is not a JWT: ", parse_errors[i].message()));
  };

  if (policies.tokens_valid) {
    for (size_t i = 0; i < end; ++i) {
      if (absl::Status s = require_parsed("tokens_valid", i); !s.ok()) return s;
    }
  }
  if (policies.tokens_chained) {
    for (size_t i = 0; i + 1 < end; ++i) {
      if (absl::Status s = require_parsed("tokens_chained", i); !s.ok()) return s;
      if (absl::Status s = require_parsed("tokens_chained", i + 1); !s.ok()) return s;
      const auto& aud = claims[i]->audience;
      if (std::find(aud.begin(), aud.end(), claims[i + 1]->subject) == aud.end()) {
        return Denied(
            "tokens_chained",
            absl::StrCat(SegmentName(path, i), " token is not addressed to the subject ", "of ",
                         SegmentName(path, i + 1), " (\"", claims[i + 1]->subject, "\")"));
      }
    }
  }
  if (policies.tokens_expired) {
    for (size_t i = expiry_from; i < end; ++i) {
      if (absl::Status s = require_parsed("tokens_expired", i); !s.ok()) return s;
      if (!claims[i]->expires_at.has_value() || *claims[i]->expires_at <= now) {
        return Denied("tokens_expired", absl::StrCat(SegmentName(path, i), " token has expired"));
      }
    }
  }
  if (policies.peer_token_signed) {
    if (peer_segment >= static_cast<size_t>(path.path_segments_size())) {
      return Denied("peer_token_signed", "the path has no segment for the peer");
    }
    if (peer_certificate == nullptr || peer_certificate->pem.empty()) {
      return Denied("peer_token_signed", "no TLS certificate of the peer");
    }
    auto key = tools::EcKey::FromCertificatePem(peer_certificate->pem);
    if (!key.ok()) return Denied("peer_token_signed", key.status().message());
    auto verified = tools::VerifyJwtEs256Signature(
        path.path_segments(static_cast<int>(peer_segment)).token(), *key);
    if (!verified.ok()) {
      return Denied("peer_token_signed", absl::StrCat(SegmentName(path, peer_segment),
                                                      " token: ", verified.status().message()));
    }
  }
  return absl::OkStatus();
}

AuthorizeServer::AuthorizeServer(TokenPolicies policies) : policies_(policies) {}

absl::Status AuthorizeServer::Check(Context& ctx, const connection::Connection& conn,
                                    bool closing) const {
  if (!ctx.has_peer()) return absl::OkStatus();
  const auto& path = conn.path();
  size_t index = path.index();
  // The peer's segment is the one before ours; at index 0 there is none (and the check fails).
  size_t peer_segment = index == 0 ? static_cast<size_t>(path.path_segments_size()) : index - 1;
  auto cert = ctx.values().Get<PeerCertificate>();
  size_t expiry_from = closing ? std::min(peer_segment, index) : 0;
  return CheckTokenPolicies(policies_, path, index + 1, peer_segment, ctx.Now(), cert.get(),
                            expiry_from);
}

absl::StatusOr<connection::Connection> AuthorizeServer::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  if (absl::Status s = Check(ctx, request.connection(), /*closing=*/false); !s.ok()) return s;
  return next.Request(ctx, request);
}

absl::Status AuthorizeServer::Close(Context& ctx, connection::Connection& conn,
                                    const NetworkServiceNext& next) {
  if (absl::Status s = Check(ctx, conn, /*closing=*/true); !s.ok()) return s;
  return next.Close(ctx, conn);
}

AuthorizeClient::AuthorizeClient(TokenPolicies policies) : policies_(policies) {}

absl::StatusOr<connection::Connection> AuthorizeClient::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto conn = next.Request(ctx, request);
  if (!conn.ok()) return conn;
  const auto& path = conn->path();
  auto cert = ctx.values().Get<PeerCertificate>();
  absl::Status s = CheckTokenPolicies(policies_, path, path.path_segments_size(), path.index() + 1,
                                      ctx.Now(), cert.get());
  if (!s.ok()) {
    (void)next.Close(ctx, *conn);  // do not keep a connection we refuse
    return s;
  }
  return conn;
}

}  // namespace nsmcert::sdk
