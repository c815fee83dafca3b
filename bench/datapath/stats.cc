#include "bench/datapath/stats.h"

#include <algorithm>
#include <cmath>

namespace nsmcert::bench {

std::int64_t NearestRankPercentile(std::span<const std::int64_t> sorted, double q) {
  q = std::clamp(q, 0.0, 1.0);
  const size_t n = sorted.size();
  // Rank ceil(q * n), 1-based; rank 0 (q = 0) means the minimum. A tiny epsilon keeps exact
  // products such as 0.9 * 10 from rounding up to the next rank.
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(n) - 1e-9));
  if (rank == 0) rank = 1;
  if (rank > n) rank = n;
  return sorted[rank - 1];
}

LatencySummary SummarizeLatency(std::vector<std::int64_t>& samples, int cdf_points) {
  LatencySummary out;
  if (samples.empty()) return out;
  std::sort(samples.begin(), samples.end());
  std::span<const std::int64_t> sorted(samples);
  out.count = samples.size();
  out.min_ns = sorted.front();
  out.max_ns = sorted.back();
  out.p50_ns = NearestRankPercentile(sorted, 0.5);
  out.p90_ns = NearestRankPercentile(sorted, 0.9);
  out.p99_ns = NearestRankPercentile(sorted, 0.99);
  out.p999_ns = NearestRankPercentile(sorted, 0.999);
  long double sum = 0;
  for (std::int64_t s : sorted) sum += static_cast<long double>(s);
  out.mean_ns = static_cast<double>(sum / static_cast<long double>(samples.size()));

  std::vector<double> quantiles;
  for (int i = 0; i <= cdf_points; ++i) {
    quantiles.push_back(cdf_points > 0 ? static_cast<double>(i) / cdf_points : 1.0);
  }
  for (double tail : {0.99, 0.999, 0.9999, 1.0}) quantiles.push_back(tail);
  std::sort(quantiles.begin(), quantiles.end());
  quantiles.erase(std::unique(quantiles.begin(), quantiles.end(),
                              [](double a, double b) { return std::abs(a - b) < 1e-12; }),
                  quantiles.end());
  for (double q : quantiles) out.cdf.push_back({q, NearestRankPercentile(sorted, q)});
  return out;
}

bool SequenceTracker::Record(std::uint32_t seq) {
  if (seq >= max_seq_) {
    ++out_of_range_;
    return false;
  }
  if (seq >= seen_.size()) {
    // Grow geometrically so a long trial costs amortised O(1) per packet.
    size_t size = std::max<size_t>(seen_.size() * 2, 1024);
    size = std::max<size_t>(size, static_cast<size_t>(seq) + 1);
    seen_.resize(std::min<size_t>(size, max_seq_), false);
  }
  if (seen_[seq]) {
    ++duplicates_;
    return false;
  }
  seen_[seq] = true;
  ++unique_;
  if (any_ && seq < highest_) {
    ++reordered_;
  } else {
    highest_ = seq;
    any_ = true;
  }
  return true;
}

}  // namespace nsmcert::bench
