#include "reference/sdk/tools/duration.h"

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

constexpr uint64_t kNanosecond = 1;
constexpr uint64_t kMicrosecond = 1000 * kNanosecond;
constexpr uint64_t kMillisecond = 1000 * kMicrosecond;
constexpr uint64_t kSecond = 1000 * kMillisecond;
constexpr uint64_t kMinute = 60 * kSecond;
constexpr uint64_t kHour = 60 * kMinute;
constexpr uint64_t kTwoTo63 = uint64_t{1} << 63;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(internal::Cat("invalid duration \"", text, "\": ", why));
}

bool UnitNanoseconds(std::string_view unit, uint64_t* nanos) {
  if (unit == "ns") {
    *nanos = kNanosecond;
  } else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs") {
    *nanos = kMicrosecond;
  } else if (unit == "ms") {
    *nanos = kMillisecond;
  } else if (unit == "s") {
    *nanos = kSecond;
  } else if (unit == "m") {
    *nanos = kMinute;
  } else if (unit == "h") {
    *nanos = kHour;
  } else {
    return false;
  }
  return true;
}

// Writes the `precision` lowest decimal digits of `*value` as a fraction (without trailing zeros,
// with a leading '.' if anything is written) in front of `*out`, and divides `*value` by
// 10^precision.
void PrependFraction(uint64_t* value, int precision, std::string* out) {
  std::string fraction;
  bool printed = false;
  for (int i = 0; i < precision; ++i) {
    const char digit = static_cast<char>('0' + *value % 10);
    printed = printed || digit != '0';
    if (printed) fraction.insert(fraction.begin(), digit);
    *value /= 10;
  }
  if (printed) out->insert(0, "." + fraction);
}

}  // namespace

absl::StatusOr<absl::Duration> ParseGoDuration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return Invalid(text, "empty");

  uint64_t total = 0;
  while (!s.empty()) {
    if (s[0] != '.' && !IsDigit(s[0])) return Invalid(text, "expected a number");

    // Integer part; overflow is an error.
    uint64_t whole = 0;
    size_t i = 0;
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      if (whole > (kTwoTo63 - 1) / 10) return Invalid(text, "out of range");
      whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
      if (whole > kTwoTo63) return Invalid(text, "out of range");
    }
    const bool has_whole = i > 0;
    s.remove_prefix(i);

    // Fraction; digits beyond what fits are ignored, as Go does.
    uint64_t fraction = 0;
    double scale = 1;
    bool has_fraction = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      bool overflow = false;
      size_t j = 0;
      for (; j < s.size() && IsDigit(s[j]); ++j) {
        if (overflow) continue;
        if (fraction > (kTwoTo63 - 1) / 10) {
          overflow = true;
          continue;
        }
        const uint64_t next = fraction * 10 + static_cast<uint64_t>(s[j] - '0');
        if (next > kTwoTo63) {
          overflow = true;
          continue;
        }
        fraction = next;
        scale *= 10;
      }
      has_fraction = j > 0;
      s.remove_prefix(j);
    }
    if (!has_whole && !has_fraction) return Invalid(text, "expected digits around '.'");

    size_t unit_length = 0;
    while (unit_length < s.size() && s[unit_length] != '.' && !IsDigit(s[unit_length])) {
      ++unit_length;
    }
    if (unit_length == 0) return Invalid(text, "missing unit");
    const std::string_view unit = s.substr(0, unit_length);
    s.remove_prefix(unit_length);
    uint64_t unit_nanos = 0;
    if (!UnitNanoseconds(unit, &unit_nanos)) {
      return Invalid(text, internal::Cat("unknown unit \"", unit, "\""));
    }

    if (whole > kTwoTo63 / unit_nanos) return Invalid(text, "out of range");
    uint64_t value = whole * unit_nanos;
    if (fraction > 0) {
      value += static_cast<uint64_t>(static_cast<double>(fraction) *
                                     (static_cast<double>(unit_nanos) / scale));
      if (value > kTwoTo63) return Invalid(text, "out of range");
    }
    total += value;
    if (total > kTwoTo63) return Invalid(text, "out of range");
  }

  if (negative) {
    return total == kTwoTo63 ? absl::Nanoseconds(std::numeric_limits<int64_t>::min())
                             : absl::Nanoseconds(-static_cast<int64_t>(total));
  }
  if (total > kTwoTo63 - 1) return Invalid(text, "out of range");
  return absl::Nanoseconds(static_cast<int64_t>(total));
}

std::string FormatGoDuration(absl::Duration duration) {
  int64_t nanos = 0;
  if (duration >= absl::Nanoseconds(std::numeric_limits<int64_t>::max())) {
    nanos = std::numeric_limits<int64_t>::max();
  } else if (duration <= absl::Nanoseconds(std::numeric_limits<int64_t>::min())) {
    nanos = std::numeric_limits<int64_t>::min();
  } else {
    nanos = absl::ToInt64Nanoseconds(duration);
  }
  if (nanos == 0) return "0s";
  const bool negative = nanos < 0;
  // Two's complement negation in unsigned arithmetic handles INT64_MIN too.
  uint64_t u = negative ? ~static_cast<uint64_t>(nanos) + 1 : static_cast<uint64_t>(nanos);

  std::string out;
  if (u < kSecond) {
    // Sub-second values use a smaller unit and a fractional count of it.
    if (u < kMicrosecond) {
      out = internal::Cat(u, "ns");
    } else if (u < kMillisecond) {
      out = "\xC2\xB5s";
      PrependFraction(&u, 3, &out);
      out.insert(0, internal::Cat(u));
    } else {
      out = "ms";
      PrependFraction(&u, 6, &out);
      out.insert(0, internal::Cat(u));
    }
  } else {
    out = "s";
    PrependFraction(&u, 9, &out);
    // u is now whole seconds.
    out.insert(0, internal::Cat(u % 60));
    u /= 60;
    if (u > 0) {
      out.insert(0, internal::Cat(u % 60, "m"));
      u /= 60;
      if (u > 0) out.insert(0, internal::Cat(u, "h"));
    }
  }
  if (negative) out.insert(0, "-");
  return out;
}

}  // namespace nsmcert::sdk::tools
