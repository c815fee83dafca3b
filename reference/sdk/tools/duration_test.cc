#include "reference/sdk/tools/duration.h"

#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::HasSubstr;

absl::Duration MustParse(std::string_view text) {
  auto d = ParseGoDuration(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.status();
  return d.value_or(absl::ZeroDuration());
}

TEST(ParseGoDurationTest, ConfigExamples) {
  EXPECT_EQ(MustParse("10m"), absl::Minutes(10));
  EXPECT_EQ(MustParse("750ms"), absl::Milliseconds(750));
  EXPECT_EQ(MustParse("1s"), absl::Seconds(1));
  EXPECT_EQ(MustParse("1m30s"), absl::Seconds(90));
  EXPECT_EQ(MustParse("-1m"), -absl::Minutes(1));
  EXPECT_EQ(MustParse("24h"), absl::Hours(24));
  EXPECT_EQ(MustParse("200ms"), absl::Milliseconds(200));
}

TEST(ParseGoDurationTest, ZeroAndSigns) {
  EXPECT_EQ(MustParse("0"), absl::ZeroDuration());
  EXPECT_EQ(MustParse("-0"), absl::ZeroDuration());
  EXPECT_EQ(MustParse("+0"), absl::ZeroDuration());
  EXPECT_EQ(MustParse("0s"), absl::ZeroDuration());
  EXPECT_EQ(MustParse("+5s"), absl::Seconds(5));
}

TEST(ParseGoDurationTest, FractionsAndAllUnits) {
  EXPECT_EQ(MustParse("1.5h"), absl::Minutes(90));
  EXPECT_EQ(MustParse(".5s"), absl::Milliseconds(500));
  EXPECT_EQ(MustParse("1.s"), absl::Seconds(1));
  EXPECT_EQ(MustParse("3ns"), absl::Nanoseconds(3));
  EXPECT_EQ(MustParse("3us"), absl::Microseconds(3));
  EXPECT_EQ(MustParse("3\xC2\xB5s"), absl::Microseconds(3));
  EXPECT_EQ(MustParse("3\xCE\xBCs"), absl::Microseconds(3));
  EXPECT_EQ(MustParse("1h2m3s4ms5us6ns"), absl::Hours(1) + absl::Minutes(2) + absl::Seconds(3) +
                                              absl::Milliseconds(4) + absl::Microseconds(5) +
                                              absl::Nanoseconds(6));
  // Fraction digits beyond nanosecond precision are accepted and dropped.
  EXPECT_EQ(MustParse("1.000000000000000000001s"), absl::Seconds(1));
}

TEST(ParseGoDurationTest, Limits) {
  EXPECT_EQ(MustParse("9223372036854775807ns"),
            absl::Nanoseconds(std::numeric_limits<int64_t>::max()));
  EXPECT_EQ(MustParse("-9223372036854775808ns"),
            absl::Nanoseconds(std::numeric_limits<int64_t>::min()));
  EXPECT_FALSE(ParseGoDuration("9223372036854775808ns").ok());
  EXPECT_FALSE(ParseGoDuration("9223372036854775808000ns").ok());
  EXPECT_FALSE(ParseGoDuration("3000000h").ok());
}

TEST(ParseGoDurationTest, RejectsMalformed) {
  for (const char* text : {"", "-", "s", "1", "10", "1x", "1.5", ".s", "1m 30s", " 1s", "1s ", "1S",
                           "1sec", "--1s", "1..5s"}) {
    auto d = ParseGoDuration(text);
    EXPECT_FALSE(d.ok()) << "accepted \"" << text << "\"";
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(d.status().message(), HasSubstr("invalid duration"));
    }
  }
}

TEST(FormatGoDurationTest, MatchesGo) {
  EXPECT_EQ(FormatGoDuration(absl::ZeroDuration()), "0s");
  EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(1)), "1ns");
  EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(1100)), "1.1\xC2\xB5s");
  EXPECT_EQ(FormatGoDuration(absl::Microseconds(2200)), "2.2ms");
  EXPECT_EQ(FormatGoDuration(absl::Milliseconds(750)), "750ms");
  EXPECT_EQ(FormatGoDuration(absl::Milliseconds(3300)), "3.3s");
  EXPECT_EQ(FormatGoDuration(absl::Seconds(90)), "1m30s");
  EXPECT_EQ(FormatGoDuration(absl::Minutes(10)), "10m0s");
  EXPECT_EQ(FormatGoDuration(absl::Hours(1)), "1h0m0s");
  EXPECT_EQ(FormatGoDuration(absl::Hours(4) + absl::Minutes(5) + absl::Milliseconds(6001)),
            "4h5m6.001s");
  EXPECT_EQ(FormatGoDuration(-absl::Minutes(1)), "-1m0s");
  EXPECT_EQ(FormatGoDuration(absl::Nanoseconds(std::numeric_limits<int64_t>::min())),
            "-2562047h47m16.854775808s");
  EXPECT_EQ(FormatGoDuration(absl::InfiniteDuration()), "2562047h47m16.854775807s");
}

TEST(FormatGoDurationTest, RoundTrips) {
  for (absl::Duration d :
       {absl::Nanoseconds(1), absl::Microseconds(1500), absl::Milliseconds(750), absl::Seconds(90),
        absl::Hours(26) + absl::Nanoseconds(1), -absl::Milliseconds(1)}) {
    EXPECT_EQ(MustParse(FormatGoDuration(d)), d) << FormatGoDuration(d);
  }
}

}  // namespace
}  // namespace nsmcert::sdk::tools
