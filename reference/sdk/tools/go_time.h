// Go's time.RFC3339Nano text, the format of the `nsm-client-token-expires` gRPC metadata value, and
// conversions between absl::Time and google.protobuf.Timestamp.
//
// The format is `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±hh:mm)`: the fraction has at most nine digits
// with trailing zeros dropped (no dot at all when the nanoseconds are zero), and a zero UTC offset
// is written `Z`. Example: `2026-11-26T14:03:05.123456789Z`.
//
// All functions are pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"

namespace nsmcert::sdk::tools {

// Formats `t` as Go does with time.RFC3339Nano. `utc_offset` selects the zone the text is written
// in (Go writes a time in its own location; NSM components mostly use UTC or the host's zone); it
// must be a whole number of minutes within ±24h, otherwise UTC is used. Years outside 0000..9999
// are not representable in this format; such times are formatted with their year digits as-is, and
// infinite times as the furthest civil second absl represents.
std::string FormatRfc3339Nano(absl::Time t, absl::Duration utc_offset = absl::ZeroDuration());

// Parses RFC 3339 text as Go's time.Parse(time.RFC3339Nano, ...) accepts it: a four-digit year,
// two-digit fields, an optional fraction of 1..9 digits (further digits are accepted and
// truncated, as Go does), then `Z` or a `±hh:mm` offset. Calendar fields are validated (no Feb 30,
// no second 60). Errors are InvalidArgument naming what is wrong.
absl::StatusOr<absl::Time> ParseRfc3339Nano(std::string_view text);

// google.protobuf.Timestamp covers 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z with
// nanos in [0, 1e9). Times outside that range (including infinite ones) are OutOfRange.
absl::StatusOr<google::protobuf::Timestamp> ToProtoTimestamp(absl::Time t);

// Rejects timestamps outside the range above or with nanos outside [0, 1e9) (InvalidArgument).
absl::StatusOr<absl::Time> FromProtoTimestamp(const google::protobuf::Timestamp& timestamp);

}  // namespace nsmcert::sdk::tools
