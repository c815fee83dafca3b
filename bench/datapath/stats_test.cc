#include "bench/datapath/stats.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace nsmcert::bench {
namespace {

TEST(PercentileTest, NearestRankOnSmallSets) {
  std::vector<std::int64_t> v = {10, 20, 30, 40, 50, 60, 70, 80, 90, 100};
  EXPECT_EQ(NearestRankPercentile(v, 0.0), 10);
  EXPECT_EQ(NearestRankPercentile(v, 0.1), 10);
  EXPECT_EQ(NearestRankPercentile(v, 0.11), 20);
  EXPECT_EQ(NearestRankPercentile(v, 0.5), 50);
  EXPECT_EQ(NearestRankPercentile(v, 0.9), 90);
  EXPECT_EQ(NearestRankPercentile(v, 0.99), 100);
  EXPECT_EQ(NearestRankPercentile(v, 1.0), 100);
  EXPECT_EQ(NearestRankPercentile(v, 7.0), 100) << "clamped";
  std::vector<std::int64_t> one = {42};
  EXPECT_EQ(NearestRankPercentile(one, 0.999), 42);
}

TEST(PercentileTest, TailPercentilesOfAThousandSamples) {
  std::vector<std::int64_t> v(1000);
  std::iota(v.begin(), v.end(), 1);  // 1..1000
  EXPECT_EQ(NearestRankPercentile(v, 0.5), 500);
  EXPECT_EQ(NearestRankPercentile(v, 0.99), 990);
  EXPECT_EQ(NearestRankPercentile(v, 0.999), 999);
}

TEST(SummarizeLatencyTest, SortsAndSummarises) {
  std::vector<std::int64_t> v(1000);
  std::iota(v.begin(), v.end(), 1);
  std::shuffle(v.begin(), v.end(), std::mt19937(7));
  LatencySummary s = SummarizeLatency(v, 10);
  EXPECT_EQ(s.count, 1000u);
  EXPECT_EQ(s.min_ns, 1);
  EXPECT_EQ(s.max_ns, 1000);
  EXPECT_EQ(s.p50_ns, 500);
  EXPECT_EQ(s.p90_ns, 900);
  EXPECT_EQ(s.p99_ns, 990);
  EXPECT_EQ(s.p999_ns, 999);
  EXPECT_DOUBLE_EQ(s.mean_ns, 500.5);
  EXPECT_TRUE(std::is_sorted(v.begin(), v.end()));
  // 0, 0.1, ..., 1 plus the tail points 0.99, 0.999, 0.9999.
  ASSERT_EQ(s.cdf.size(), 14u);
  EXPECT_EQ(s.cdf.front(), (CdfPoint{0.0, 1}));
  EXPECT_EQ(s.cdf.back(), (CdfPoint{1.0, 1000}));
  for (size_t i = 1; i < s.cdf.size(); ++i) {
    EXPECT_LT(s.cdf[i - 1].quantile, s.cdf[i].quantile);
    EXPECT_LE(s.cdf[i - 1].ns, s.cdf[i].ns);
  }
}

TEST(SummarizeLatencyTest, EmptyIsAllZero) {
  std::vector<std::int64_t> none;
  LatencySummary s = SummarizeLatency(none);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p50_ns, 0);
  EXPECT_TRUE(s.cdf.empty());
}

TEST(SequenceTrackerTest, InOrderWithoutLoss) {
  SequenceTracker t(100);
  for (std::uint32_t i = 0; i < 100; ++i) EXPECT_TRUE(t.Record(i));
  EXPECT_EQ(t.unique(), 100u);
  EXPECT_EQ(t.Lost(100), 0u);
  EXPECT_EQ(t.reordered(), 0u);
  EXPECT_EQ(t.duplicates(), 0u);
}

TEST(SequenceTrackerTest, CountsLossDuplicatesAndReordering) {
  SequenceTracker t(10);
  // 0 1 3 2 2 5 9 4 ; 6, 7, 8 never arrive; 12 is not from this trial.
  for (std::uint32_t s : {0u, 1u, 3u, 2u, 2u, 5u, 9u, 4u}) t.Record(s);
  EXPECT_FALSE(t.Record(12));
  EXPECT_EQ(t.unique(), 7u);
  EXPECT_EQ(t.duplicates(), 1u);
  EXPECT_EQ(t.reordered(), 2u) << "2 after 3, and 4 after 9";
  EXPECT_EQ(t.Lost(10), 3u);
  EXPECT_EQ(t.out_of_range(), 1u);
  EXPECT_EQ(t.Lost(5), 0u) << "never negative";
}

TEST(SequenceTrackerTest, ReversedStreamIsAllReorderedButTheFirst) {
  SequenceTracker t(1000);
  for (std::uint32_t s = 1000; s-- > 0;) t.Record(s);
  EXPECT_EQ(t.unique(), 1000u);
  EXPECT_EQ(t.reordered(), 999u);
  EXPECT_EQ(t.Lost(1000), 0u);
}

TEST(SequenceTrackerTest, GrowsForLargeSequenceNumbers) {
  SequenceTracker t(5'000'000);
  EXPECT_TRUE(t.Record(4'999'999));
  EXPECT_TRUE(t.Record(0));
  EXPECT_FALSE(t.Record(4'999'999));
  EXPECT_EQ(t.unique(), 2u);
  EXPECT_EQ(t.duplicates(), 1u);
}

}  // namespace
}  // namespace nsmcert::bench
