// RFC 2544 §26.1 throughput search: the highest offered rate at which a trial loses no more than
// a given fraction of its packets (zero for the "non-drop rate", 0.5% for FD.io CSIT's "partial
// drop rate"), found by binary search over short trials.
//
// The search is independent of how a trial is run: it calls a trial function with a rate and
// judges what comes back, so it is tested against a simulated link without sockets.
#ifndef NSMCERT_BENCH_DATAPATH_RATE_SEARCH_H_
#define NSMCERT_BENCH_DATAPATH_RATE_SEARCH_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::bench {

// What the search needs from one trial.
struct RateTrial {
  double offered_pps = 0;   // the rate asked for; 0 = as fast as the sender can
  double achieved_pps = 0;  // the rate actually sent (packets / sending time)
  std::uint64_t sent = 0;
  std::uint64_t lost = 0;
  double LossRatio() const {
    return sent == 0 ? 1.0 : static_cast<double>(lost) / static_cast<double>(sent);
  }
};

// Runs one trial at `rate_pps` (0 = unthrottled) and reports it. An error stops the search.
using RateTrialFn = std::function<absl::StatusOr<RateTrial>(double rate_pps)>;

struct RateSearchConfig {
  double loss_threshold = 0;  // a trial passes when LossRatio() <= this; in [0, 1)
  // The first trial's rate, the top of the search; 0 = unthrottled (the sender's maximum).
  double max_rate_pps = 0;
  // Stop when the bracket [pass, fail] is narrower than this fraction of the failing rate.
  double resolution = 0.02;
  double min_rate_pps = 100;  // below this, give up: nothing passes
  int max_trials = 12;        // including the first
  // Known results that save trials: a rate already known to pass (e.g. the zero-loss rate when
  // searching for the 0.5%-loss rate) and a first trial already run at max_rate_pps.
  double known_pass_pps = 0;
  std::optional<RateTrial> first_trial;
};

struct RateSearchStep {
  RateTrial trial;
  bool pass = false;
};

struct RateSearchResult {
  bool found = false;   // some rate >= min_rate_pps passed
  double rate_pps = 0;  // the highest passing rate (as achieved); 0 when !found
  // The first (unthrottled or max-rate) trial passed: the path carried everything the sender
  // produced, so rate_pps is a lower bound of the path's capacity.
  bool limited_by_sender = false;
  double fail_pps = 0;  // the lowest failing rate at the end (0 when none failed)
  // Trials that failed at or below a rate that had passed before (a noisy link). Each is
  // retried once at the same rate; when the retry fails low too, the earlier pass is discarded
  // and the search goes on below the failure.
  int inconsistencies = 0;
  std::vector<RateSearchStep> steps;  // in the order run (a given first_trial included)
};

// Runs the search. INVALID_ARGUMENT names a bad config field; errors of `trial` are returned
// as they are.
absl::StatusOr<RateSearchResult> FindRate(const RateSearchConfig& config, const RateTrialFn& trial);

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_RATE_SEARCH_H_
