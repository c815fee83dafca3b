#include "reference/sdk/tools/path.h"

#include <optional>

#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/internal/strings.h"
#include "reference/sdk/tools/uuid.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;

std::string NewId(const IdGenerator& new_id) { return new_id ? new_id() : NewUuidV4(); }

absl::Status SetSegmentToken(connection::PathSegment& segment, const Token& token,
                             std::string_view which) {
  absl::StatusOr<google::protobuf::Timestamp> expires = ToProtoTimestamp(token.expires);
  if (!expires.ok()) {
    return absl::InvalidArgumentError(
        Cat(which, " token expiry cannot be sent: ", expires.status().message()));
  }
  segment.set_token(token.value);
  *segment.mutable_expires() = *expires;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint32_t> UpdatePath(connection::Connection& connection, std::string_view name,
                                    const IdGenerator& new_id) {
  connection::Path& path = *connection.mutable_path();
  auto& segments = *path.mutable_path_segments();

  // 1. First hop: start the path.
  if (segments.empty()) {
    path.set_index(0);
    if (connection.id().empty()) connection.set_id(NewId(new_id));
    connection::PathSegment& own = *segments.Add();
    own.set_name(std::string(name));
    own.set_id(connection.id());
    return 0;
  }

  const uint32_t index = path.index();
  const size_t count = static_cast<size_t>(segments.size());

  // 2. This hop already owns the current segment (its own client in the same process).
  if (index < count && segments[static_cast<int>(index)].name() == name) {
    connection.set_id(segments[static_cast<int>(index)].id());
    return index;
  }

  // 3. Move to the next segment.
  const size_t next = static_cast<size_t>(index) + 1;
  if (next > count) {
    return absl::InvalidArgumentError(
        Cat("path.index+1 == ", next, " exceeds the ", count, " path segments"));
  }
  const connection::PathSegment& current = segments[static_cast<int>(index)];
  if (current.id() != connection.id()) {
    return absl::InvalidArgumentError(Cat("path segment ", index, " id \"", current.id(),
                                          "\" differs from connection id \"", connection.id(),
                                          "\""));
  }
  if (next < count && segments[static_cast<int>(next)].name() != name) {
    // Another hop held this position before (reselect, restart): the segment is ours now.
    connection::PathSegment& renamed = segments[static_cast<int>(next)];
    renamed.set_name(std::string(name));
    renamed.set_id(NewId(new_id));
  }
  path.set_index(static_cast<uint32_t>(next));
  if (next >= count) {
    connection::PathSegment& own = *segments.Add();
    own.set_name(std::string(name));
    own.set_id(NewId(new_id));
  }
  connection.set_id(segments[static_cast<int>(next)].id());
  return index;
}

absl::Status RestorePath(connection::Connection& connection, uint32_t caller_index) {
  const auto& segments = connection.path().path_segments();
  if (caller_index >= static_cast<uint32_t>(segments.size())) {
    return absl::InternalError(Cat("returned path has ", segments.size(),
                                   " segments, too few to restore index ", caller_index));
  }
  connection.set_id(segments[static_cast<int>(caller_index)].id());
  connection.mutable_path()->set_index(caller_index);
  return absl::OkStatus();
}

connection::PathSegment* PrevPathSegment(connection::Connection& connection) {
  if (!connection.has_path()) return nullptr;
  connection::Path& path = *connection.mutable_path();
  const uint32_t index = path.index();
  if (index == 0 || index - 1 >= static_cast<uint32_t>(path.path_segments_size())) return nullptr;
  return path.mutable_path_segments(static_cast<int>(index - 1));
}

const connection::PathSegment* PrevPathSegment(const connection::Connection& connection) {
  const connection::Path& path = connection.path();
  const uint32_t index = path.index();
  if (index == 0 || index - 1 >= static_cast<uint32_t>(path.path_segments_size())) return nullptr;
  return &path.path_segments(static_cast<int>(index - 1));
}

absl::StatusOr<Token> PeerTokenFromMetadata(const std::vector<std::string_view>& token_values,
                                            const std::vector<std::string_view>& expires_values) {
  if (token_values.size() != 1) {
    return absl::UnauthenticatedError(
        Cat("nsm-client-token has ", token_values.size(), " values, expected 1"));
  }
  if (expires_values.size() != 1) {
    return absl::UnauthenticatedError(
        Cat("nsm-client-token-expires has ", expires_values.size(), " values, expected 1"));
  }
  absl::StatusOr<absl::Time> expires = ParseRfc3339Nano(expires_values[0]);
  if (!expires.ok()) {
    return absl::UnauthenticatedError(
        Cat("nsm-client-token-expires: ", expires.status().message()));
  }
  return Token{std::string(token_values[0]), *expires};
}

absl::Status UpdateTokenServer(connection::Connection& connection, const Token* peer_token,
                               const Token& own_token) {
  if (peer_token != nullptr) {
    if (connection::PathSegment* prev = PrevPathSegment(connection); prev != nullptr) {
      if (absl::Status s = SetSegmentToken(*prev, *peer_token, "peer"); !s.ok()) return s;
    }
  }
  const connection::Path& path = connection.path();
  if (path.index() >= static_cast<uint32_t>(path.path_segments_size())) {
    return absl::InvalidArgumentError(Cat("path.index ", path.index(), " is not inside the ",
                                          path.path_segments_size(), " path segments"));
  }
  return SetSegmentToken(
      *connection.mutable_path()->mutable_path_segments(static_cast<int>(path.index())), own_token,
      "own");
}

void TrimPath(connection::Connection& connection) {
  if (!connection.has_path()) return;
  connection::Path& path = *connection.mutable_path();
  const int keep = static_cast<int>(path.index()) + 1;
  if (keep > 0 && path.path_segments_size() > keep) {
    path.mutable_path_segments()->DeleteSubrange(keep, path.path_segments_size() - keep);
  }
}

double RefreshScale(uint32_t index, size_t segment_count) {
  if (segment_count <= 1) return 1.0 / 3.0;
  return 0.2 + 0.2 * static_cast<double>(index) / static_cast<double>(segment_count);
}

absl::Duration RefreshAfter(const connection::Connection& connection, absl::Time now) {
  const auto& segments = connection.path().path_segments();
  std::optional<absl::Duration> earliest;
  for (const connection::PathSegment& segment : segments) {
    // An unset or unrepresentable expiry reads as the epoch, like Go's AsTime on a nil Timestamp.
    absl::StatusOr<absl::Time> expires = FromProtoTimestamp(segment.expires());
    const absl::Duration remaining = (expires.ok() ? *expires : absl::UnixEpoch()) - now;
    if (!earliest.has_value() || remaining < *earliest) earliest = remaining;
  }
  if (!earliest.has_value() || *earliest <= absl::ZeroDuration()) return absl::Nanoseconds(1);
  const double scale =
      RefreshScale(connection.path().index(), static_cast<size_t>(segments.size()));
  // Go multiplies int64 nanoseconds by the float scale and truncates.
  return absl::Nanoseconds(
      static_cast<int64_t>(static_cast<double>(absl::ToInt64Nanoseconds(*earliest)) * scale));
}

absl::StatusOr<absl::Duration> TimeoutAfter(const connection::Connection& connection,
                                            absl::Time now,
                                            absl::Duration request_deadline_remaining) {
  const connection::PathSegment* prev = PrevPathSegment(connection);
  if (prev == nullptr) {
    return absl::FailedPreconditionError("connection has no previous path segment");
  }
  if (!prev->has_expires()) {
    return absl::FailedPreconditionError(
        Cat("previous path segment \"", prev->name(), "\" has no expiry"));
  }
  absl::StatusOr<absl::Time> expires = FromProtoTimestamp(prev->expires());
  if (!expires.ok()) return expires.status();
  const absl::Duration after = *expires - now - request_deadline_remaining;
  return after < absl::ZeroDuration() ? absl::ZeroDuration() : after;
}

}  // namespace nsmcert::sdk::tools
