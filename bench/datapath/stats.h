// Statistics of a traffic trial: latency percentiles and a CDF from per-packet delays, and loss,
// duplicate and reordering accounting from sequence numbers. Plain values, no system calls.
#ifndef NSMCERT_BENCH_DATAPATH_STATS_H_
#define NSMCERT_BENCH_DATAPATH_STATS_H_

#include <cstdint>
#include <span>
#include <vector>

namespace nsmcert::bench {

// The nearest-rank percentile (RFC 8219 §7.3 reports percentiles of the measured delays):
// the smallest sample such that at least a fraction `q` of all samples is less than or equal to
// it. `sorted` must be sorted ascending and non-empty; `q` is clamped to [0, 1] (q = 0 gives
// the minimum).
std::int64_t NearestRankPercentile(std::span<const std::int64_t> sorted, double q);

struct CdfPoint {
  double quantile = 0;
  std::int64_t ns = 0;
  friend bool operator==(const CdfPoint&, const CdfPoint&) = default;
};

struct LatencySummary {
  std::uint64_t count = 0;  // 0: no samples, every other field is zero
  std::int64_t min_ns = 0;
  std::int64_t p50_ns = 0;
  std::int64_t p90_ns = 0;
  std::int64_t p99_ns = 0;
  std::int64_t p999_ns = 0;
  std::int64_t max_ns = 0;
  double mean_ns = 0;
  // The distribution at `cdf_points` evenly spaced quantiles plus the tail (0.99, 0.999,
  // 0.9999, 1), ascending, for plotting.
  std::vector<CdfPoint> cdf;
};

// Summarises `samples` (sorting them in place).
LatencySummary SummarizeLatency(std::vector<std::int64_t>& samples, int cdf_points = 50);

// Sequence-number accounting for one trial, where the sender numbers packets 0, 1, 2, ...
// - a packet is *new* the first time its number is seen, a *duplicate* afterwards;
// - a new packet is *reordered* when a higher number arrived before it (RFC 4737 §4.1);
// - numbers at or above `max_seq` are not from this trial's sender and only counted.
// Not thread-safe: one receiver owns it.
class SequenceTracker {
 public:
  explicit SequenceTracker(std::uint32_t max_seq) : max_seq_(max_seq) {}

  // Records one arrival; true when the packet is new (its delay sample should be kept).
  bool Record(std::uint32_t seq);

  std::uint64_t unique() const { return unique_; }
  std::uint64_t duplicates() const { return duplicates_; }
  std::uint64_t reordered() const { return reordered_; }
  std::uint64_t out_of_range() const { return out_of_range_; }
  // Packets of `sent` that never arrived (sent - unique, never negative).
  std::uint64_t Lost(std::uint64_t sent) const { return sent > unique_ ? sent - unique_ : 0; }

 private:
  std::uint32_t max_seq_;
  std::vector<bool> seen_;  // grows with the highest number seen
  bool any_ = false;
  std::uint32_t highest_ = 0;
  std::uint64_t unique_ = 0;
  std::uint64_t duplicates_ = 0;
  std::uint64_t reordered_ = 0;
  std::uint64_t out_of_range_ = 0;
};

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_STATS_H_
