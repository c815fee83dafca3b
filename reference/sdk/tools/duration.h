// Go duration strings, as the daemons' `NSM_*` environment configuration writes them (`10m`,
// `750ms`, `1s`, `1m30s`, `-1m`, `1.5h`).
//
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsmcert::sdk::tools {

// Parses like Go's time.ParseDuration: an optional sign, then one or more decimal numbers (with an
// optional fraction) each followed by a unit `ns`, `us`, `µs` (U+00B5), `μs` (U+03BC), `ms`, `s`,
// `m` or `h`. A lone `0` is zero. Values beyond ±2^63 ns (about 292 years) are rejected, as in Go.
// Errors are InvalidArgument and quote the input.
absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text);

// Formats like Go's Duration.String(): `1h0m0s`, `1m30s`, `750ms`, `1.5µs`, `0s`. Durations beyond
// the ±2^63 ns Go can hold (including infinite ones) are clamped to that range.
std::string FormatGoDuration(absl::Duration duration);

}  // namespace nsmcert::sdk::tools
