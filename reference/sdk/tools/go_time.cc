#include "reference/sdk/tools/go_time.h"

#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

// Seconds of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z since the Unix epoch.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `width` decimal digits at `pos`.
bool ReadFixedDigits(std::string_view text, size_t pos, size_t width, int* out) {
  if (pos + width > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + width; ++i) {
    if (!IsDigit(text[i])) return false;
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("invalid RFC 3339 time \"", text, "\": ", why));
}

// Splits `t` into whole seconds (rounded toward the past) and the nanoseconds after them.
void SplitSeconds(absl::Time t, int64_t* seconds, int64_t* nanos) {
  *seconds = absl::ToUnixSeconds(t);
  *nanos = absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(*seconds));
}

}  // namespace

std::string FormatRfc3339Nano(absl::Time t, absl::Duration utc_offset) {
  int64_t offset_seconds = absl::ToInt64Seconds(utc_offset);
  if (utc_offset != absl::Seconds(offset_seconds) || offset_seconds % 60 != 0 ||
      offset_seconds <= -24 * 3600 || offset_seconds >= 24 * 3600) {
    offset_seconds = 0;
  }
  const absl::TimeZone zone = absl::FixedTimeZone(static_cast<int>(offset_seconds));
  const absl::CivilSecond civil = absl::ToCivilSecond(t, zone);
  int64_t whole_seconds = 0;
  int64_t nanos = 0;
  SplitSeconds(t, &whole_seconds, &nanos);
  if (t == absl::InfiniteFuture() || t == absl::InfinitePast()) nanos = 0;

  std::string out = absl::StrFormat("%04d-%02d-%02dT%02d:%02d:%02d", civil.year(), civil.month(),
                                    civil.day(), civil.hour(), civil.minute(), civil.second());
  if (nanos != 0) {
    std::string fraction = absl::StrFormat("%09d", nanos);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    internal::Append(&out, ".", fraction);
  }
  if (offset_seconds == 0) {
    out.push_back('Z');
  } else {
    const int64_t minutes = (offset_seconds < 0 ? -offset_seconds : offset_seconds) / 60;
    absl::StrAppendFormat(&out, "%c%02d:%02d", offset_seconds < 0 ? '-' : '+', minutes / 60,
                          minutes % 60);
  }
  return out;
}

absl::StatusOr<absl::Time> ParseRfc3339Nano(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!ReadFixedDigits(text, 0, 4, &year) || text.size() < 5 || text[4] != '-' ||
      !ReadFixedDigits(text, 5, 2, &month) || text.size() < 8 || text[7] != '-' ||
      !ReadFixedDigits(text, 8, 2, &day)) {
    return Invalid(text, "expected a YYYY-MM-DD date");
  }
  if (text.size() < 11 || text[10] != 'T') return Invalid(text, "expected 'T' after the date");
  if (!ReadFixedDigits(text, 11, 2, &hour) || text.size() < 14 || text[13] != ':' ||
      !ReadFixedDigits(text, 14, 2, &minute) || text.size() < 17 || text[16] != ':' ||
      !ReadFixedDigits(text, 17, 2, &second)) {
    return Invalid(text, "expected an HH:MM:SS time of day");
  }
  if (month < 1 || month > 12) return Invalid(text, "month out of range");
  if (hour > 23) return Invalid(text, "hour out of range");
  if (minute > 59) return Invalid(text, "minute out of range");
  if (second > 59) return Invalid(text, "second out of range");
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (civil.year() != year || civil.month() != month || civil.day() != day) {
    return Invalid(text, "day out of range");
  }

  size_t pos = 19;
  int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    const size_t start = pos;
    int digits = 0;
    while (pos < text.size() && IsDigit(text[pos])) {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (pos == start) return Invalid(text, "expected digits after '.'");
    for (; digits < 9; ++digits) nanos *= 10;
  }

  if (pos >= text.size()) return Invalid(text, "missing time zone ('Z' or ±hh:mm)");
  int64_t offset_seconds = 0;
  if (text[pos] == 'Z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    int offset_hours = 0, offset_minutes = 0;
    if (!ReadFixedDigits(text, pos + 1, 2, &offset_hours) || pos + 3 >= text.size() ||
        text[pos + 3] != ':' || !ReadFixedDigits(text, pos + 4, 2, &offset_minutes)) {
      return Invalid(text, "expected a ±hh:mm time zone offset");
    }
    if (offset_hours > 23 || offset_minutes > 59) {
      return Invalid(text, "time zone offset out of range");
    }
    offset_seconds = (offset_hours * 60 + offset_minutes) * 60;
    if (text[pos] == '-') offset_seconds = -offset_seconds;
    pos += 6;
  } else {
    return Invalid(text, "expected 'Z' or ±hh:mm after the time of day");
  }
  if (pos != text.size()) return Invalid(text, "unexpected text after the time zone");

  return absl::FromCivil(civil, absl::UTCTimeZone()) - absl::Seconds(offset_seconds) +
         absl::Nanoseconds(nanos);
}

absl::StatusOr<google::protobuf::Timestamp> ToProtoTimestamp(absl::Time t) {
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    return absl::OutOfRangeError("an infinite time has no google.protobuf.Timestamp");
  }
  int64_t seconds = 0;
  int64_t nanos = 0;
  SplitSeconds(t, &seconds, &nanos);
  if (seconds < kMinTimestampSeconds || seconds > kMaxTimestampSeconds) {
    return absl::OutOfRangeError(internal::Cat("time ", absl::FormatTime(t),
                                               " is outside the google.protobuf.Timestamp range"));
  }
  google::protobuf::Timestamp timestamp;
  timestamp.set_seconds(seconds);
  timestamp.set_nanos(static_cast<int32_t>(nanos));
  return timestamp;
}

absl::StatusOr<absl::Time> FromProtoTimestamp(const google::protobuf::Timestamp& timestamp) {
  if (timestamp.seconds() < kMinTimestampSeconds || timestamp.seconds() > kMaxTimestampSeconds) {
    return absl::InvalidArgumentError(
        internal::Cat("google.protobuf.Timestamp seconds ", timestamp.seconds(), " out of range"));
  }
  if (timestamp.nanos() < 0 || timestamp.nanos() >= 1'000'000'000) {
    return absl::InvalidArgumentError(
        internal::Cat("google.protobuf.Timestamp nanos ", timestamp.nanos(), " out of range"));
  }
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

}  // namespace nsmcert::sdk::tools
