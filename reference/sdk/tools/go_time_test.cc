#include "reference/sdk/tools/go_time.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::HasSubstr;

absl::Time Utc(int y, int mo, int d, int h, int mi, int s, int64_t nanos = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, s), absl::UTCTimeZone()) +
         absl::Nanoseconds(nanos);
}

TEST(FormatRfc3339NanoTest, FullNanoseconds) {
  EXPECT_EQ(FormatRfc3339Nano(Utc(2026, 11, 26, 14, 3, 5, 123456789)),
            "2026-11-26T14:03:05.123456789Z");
}

TEST(FormatRfc3339NanoTest, DropsTrailingZerosOfTheFraction) {
  EXPECT_EQ(FormatRfc3339Nano(Utc(2026, 11, 26, 14, 3, 5, 120000000)), "2026-11-26T14:03:05.12Z");
  EXPECT_EQ(FormatRfc3339Nano(Utc(2026, 11, 26, 14, 3, 5, 1000)), "2026-11-26T14:03:05.000001Z");
}

TEST(FormatRfc3339NanoTest, NoFractionWhenZero) {
  EXPECT_EQ(FormatRfc3339Nano(Utc(2026, 1, 2, 3, 4, 5)), "2026-01-02T03:04:05Z");
}

TEST(FormatRfc3339NanoTest, WritesOffsets) {
  const absl::Time t = Utc(2026, 11, 26, 14, 3, 5, 500000000);
  EXPECT_EQ(FormatRfc3339Nano(t, absl::Hours(2)), "2026-11-26T16:03:05.5+02:00");
  EXPECT_EQ(FormatRfc3339Nano(t, -absl::Minutes(330)), "2026-11-26T08:33:05.5-05:30");
}

TEST(FormatRfc3339NanoTest, InvalidOffsetFallsBackToUtc) {
  const absl::Time t = Utc(2026, 11, 26, 14, 3, 5);
  EXPECT_EQ(FormatRfc3339Nano(t, absl::Seconds(30)), "2026-11-26T14:03:05Z");
  EXPECT_EQ(FormatRfc3339Nano(t, absl::Hours(25)), "2026-11-26T14:03:05Z");
}

TEST(FormatRfc3339NanoTest, InfiniteTimesHaveNoFraction) {
  const std::string text = FormatRfc3339Nano(absl::InfiniteFuture());
  EXPECT_EQ(text.find('.'), std::string::npos) << text;
  EXPECT_EQ(text.back(), 'Z');
}

TEST(FormatRfc3339NanoTest, BeforeTheEpoch) {
  EXPECT_EQ(FormatRfc3339Nano(Utc(1969, 12, 31, 23, 59, 59, 250000000)), "1969-12-31T23:59:59.25Z");
  EXPECT_EQ(FormatRfc3339Nano(Utc(1, 1, 1, 0, 0, 0)), "0001-01-01T00:00:00Z");
}

TEST(ParseRfc3339NanoTest, ParsesSpecExample) {
  auto t = ParseRfc3339Nano("2026-11-26T14:03:05.123456789Z");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t, Utc(2026, 11, 26, 14, 3, 5, 123456789));
}

TEST(ParseRfc3339NanoTest, ParsesOffsets) {
  auto plus = ParseRfc3339Nano("2026-11-26T16:03:05+02:00");
  ASSERT_TRUE(plus.ok()) << plus.status();
  EXPECT_EQ(*plus, Utc(2026, 11, 26, 14, 3, 5));
  auto minus = ParseRfc3339Nano("2026-11-26T08:33:05.5-05:30");
  ASSERT_TRUE(minus.ok()) << minus.status();
  EXPECT_EQ(*minus, Utc(2026, 11, 26, 14, 3, 5, 500000000));
}

TEST(ParseRfc3339NanoTest, FractionOfAnyLength) {
  EXPECT_EQ(*ParseRfc3339Nano("2026-11-26T14:03:05.1Z"), Utc(2026, 11, 26, 14, 3, 5, 100000000));
  // Go keeps nanosecond precision and ignores further digits.
  EXPECT_EQ(*ParseRfc3339Nano("2026-11-26T14:03:05.1234567899999Z"),
            Utc(2026, 11, 26, 14, 3, 5, 123456789));
}

TEST(ParseRfc3339NanoTest, RoundTripsThroughFormat) {
  const absl::Time times[] = {Utc(2026, 11, 26, 14, 3, 5, 123456789), Utc(2000, 2, 29, 0, 0, 0),
                              Utc(1999, 12, 31, 23, 59, 59, 999999999),
                              Utc(2026, 6, 1, 12, 0, 0, 10), Utc(1960, 6, 1, 12, 0, 0, 10)};
  for (absl::Time t : times) {
    for (absl::Duration offset : {absl::ZeroDuration(), absl::Hours(9), -absl::Minutes(90)}) {
      const std::string text = FormatRfc3339Nano(t, offset);
      auto parsed = ParseRfc3339Nano(text);
      ASSERT_TRUE(parsed.ok()) << text << ": " << parsed.status();
      EXPECT_EQ(*parsed, t) << text;
    }
  }
}

TEST(ParseRfc3339NanoTest, RejectsMalformedText) {
  const char* bad[] = {
      "",
      "2026-11-26",
      "2026-11-26 14:03:05Z",       // space instead of T
      "2026-11-26t14:03:05Z",       // lowercase t
      "2026-11-26T14:03:05",        // no zone
      "2026-11-26T14:03:05z",       // lowercase z
      "2026-11-26T14:03:05.Z",      // empty fraction
      "2026-11-26T14:03:05+0200",   // offset without colon
      "2026-11-26T14:03:05+24:00",  // offset hour
      "2026-11-26T14:03:05Z ",      // trailing text
      "26-11-26T14:03:05Z",         // short year
      "2026-1-26T14:03:05Z",        // short month
      "2026-13-26T14:03:05Z",       // month
      "2026-02-29T14:03:05Z",       // not a leap year
      "2026-04-31T14:03:05Z",       // day
      "2026-11-26T24:00:00Z",       // hour
      "2026-11-26T14:60:00Z",       // minute
      "2026-11-26T14:03:60Z",       // leap second
  };
  for (const char* text : bad) {
    auto t = ParseRfc3339Nano(text);
    EXPECT_FALSE(t.ok()) << "accepted \"" << text << "\"";
    if (!t.ok()) {
      EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(t.status().message(), HasSubstr("invalid RFC 3339 time"));
    }
  }
}

TEST(ParseRfc3339NanoTest, AcceptsLeapDay) {
  EXPECT_TRUE(ParseRfc3339Nano("2024-02-29T00:00:00Z").ok());
}

TEST(ProtoTimestampTest, RoundTrip) {
  const absl::Time t = Utc(2026, 11, 26, 14, 3, 5, 123456789);
  auto ts = ToProtoTimestamp(t);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->seconds(), absl::ToUnixSeconds(Utc(2026, 11, 26, 14, 3, 5)));
  EXPECT_EQ(ts->nanos(), 123456789);
  auto back = FromProtoTimestamp(*ts);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, t);
}

TEST(ProtoTimestampTest, NegativeTimesHavePositiveNanos) {
  auto ts = ToProtoTimestamp(absl::UnixEpoch() - absl::Milliseconds(1500));
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->seconds(), -2);
  EXPECT_EQ(ts->nanos(), 500000000);
}

TEST(ProtoTimestampTest, RejectsOutOfRange) {
  EXPECT_EQ(ToProtoTimestamp(absl::InfiniteFuture()).status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ToProtoTimestamp(Utc(10000, 1, 1, 0, 0, 0)).status().code(),
            absl::StatusCode::kOutOfRange);
  google::protobuf::Timestamp bad_nanos;
  bad_nanos.set_nanos(-1);
  EXPECT_EQ(FromProtoTimestamp(bad_nanos).status().code(), absl::StatusCode::kInvalidArgument);
  google::protobuf::Timestamp bad_seconds;
  bad_seconds.set_seconds(253402300800);
  EXPECT_EQ(FromProtoTimestamp(bad_seconds).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace nsmcert::sdk::tools
