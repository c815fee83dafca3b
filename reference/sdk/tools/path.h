// Connection.path bookkeeping every hop performs (spec §5.1–§5.3), as pure functions over the
// protobuf messages, so the chain elements stay thin and the rules are tested once:
//
// - UpdatePath / RestorePath: the updatepath step (Request and Close).
// - PeerTokenFromMetadata / UpdateTokenServer: the updatetoken step of a server hop.
// - TrimPath: the trimpath step of a hop that did not forward the request.
// - RefreshScale / RefreshAfter: when the NSC's refresh re-sends a Request.
// - TimeoutAfter: when a server hop closes a connection nobody refreshed.
//
// Functions are thread-compatible: they modify only the message passed in.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connection.pb.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::tools {

// Makes a fresh connection / path segment id. The default is NewUuidV4.
using IdGenerator = std::function<std::string()>;

// The updatepath step for the hop called `name` (spec §5.1):
//  1. Empty path: index = 0; a connection id is generated if empty; segment {name, id} appended.
//  2. The segment at the index already carries `name` (a hop's own client): connection id =
//     that segment's id, index unchanged.
//  3. Otherwise the segment at the index must carry the connection id and index+1 must not exceed
//     the segment count (else InvalidArgument, where upstream errors too). A next segment with
//     another name is renamed to `name` and gets a new id; index is incremented; a segment {name,
//     new id} is appended if the index reached the end; the connection id becomes that segment's
//     id.
// Returns the caller's index, to hand to RestorePath once the rest of the chain returns. On error
// the connection may be partly updated (as upstream); callers fail the request.
absl::StatusOr<uint32_t> UpdatePath(connection::Connection& connection, std::string_view name,
                                    const IdGenerator& new_id = {});

// Puts back the caller's view after the rest of the chain returned `connection`: path.index =
// `caller_index` and connection.id = the id of that segment. Internal if the returned path is too
// short to hold that segment (a downstream hop broke it).
absl::Status RestorePath(connection::Connection& connection, uint32_t caller_index);

// The segment before the current index, or null at index 0 / when the index is out of range.
connection::PathSegment* PrevPathSegment(connection::Connection& connection);
const connection::PathSegment* PrevPathSegment(const connection::Connection& connection);

// The caller's token from the gRPC metadata values of `nsm-client-token` and
// `nsm-client-token-expires` (spec §2.3): exactly one value each, the expiry Go RFC3339Nano text.
// Anything else is an error (upstream logs it and carries on without a peer token).
absl::StatusOr<Token> PeerTokenFromMetadata(const std::vector<std::string_view>& token_values,
                                            const std::vector<std::string_view>& expires_values);

// The updatetoken step of a server hop (spec §5.2): when there is a previous segment and a peer
// token, that segment's token/expires are overwritten with it; then this hop's own token goes into
// the segment at the index. InvalidArgument if the index is not inside the path or an expiry cannot
// be represented as a google.protobuf.Timestamp.
absl::Status UpdateTokenServer(connection::Connection& connection, const Token* peer_token,
                               const Token& own_token);

// Drops the segments after the current index (trimpath, for a hop that did not forward).
void TrimPath(connection::Connection& connection);

// 1/3 for a path of at most one segment, else 0.2 + 0.2 * index / segment count: outer hops
// refresh a little earlier than inner ones, so a chain does not refresh in lockstep.
double RefreshScale(uint32_t index, size_t segment_count);

// How long after `now` the client re-sends its Request: (earliest segment expiry - now) scaled by
// RefreshScale. A segment without `expires` counts as expiring at the Unix epoch, as upstream reads
// it. If the earliest expiry is not after `now` (or there are no segments), the refresh is due at
// once (1 ns).
absl::Duration RefreshAfter(const connection::Connection& connection, absl::Time now);

// How long after `now` a server hop closes the connection if no newer Request arrived (spec §5.3):
// the previous segment's expiry - now - `request_deadline_remaining` (the time the incoming
// request had left; upstream's current timeout element uses zero), never negative.
// FailedPrecondition if there is no previous segment or it has no expiry.
absl::StatusOr<absl::Duration> TimeoutAfter(
    const connection::Connection& connection, absl::Time now,
    absl::Duration request_deadline_remaining = absl::ZeroDuration());

}  // namespace nsmcert::sdk::tools
