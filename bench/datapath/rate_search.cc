#include "bench/datapath/rate_search.h"

#include <algorithm>

#include "absl/status/status.h"

namespace nsmcert::bench {
namespace {

// The rate a trial actually put on the path: the sender may fall short of the asked rate.
double EffectiveRate(const RateTrial& t) {
  if (t.offered_pps <= 0) return t.achieved_pps;
  if (t.achieved_pps <= 0) return t.offered_pps;
  return std::min(t.offered_pps, t.achieved_pps);
}

}  // namespace

absl::StatusOr<RateSearchResult> FindRate(const RateSearchConfig& config,
                                          const RateTrialFn& trial) {
  if (!(config.loss_threshold >= 0 && config.loss_threshold < 1)) {
    return absl::InvalidArgumentError("loss_threshold: must be in [0, 1)");
  }
  if (!(config.resolution > 0 && config.resolution < 1)) {
    return absl::InvalidArgumentError("resolution: must be in (0, 1)");
  }
  if (config.max_trials < 1) return absl::InvalidArgumentError("max_trials: must be >= 1");
  if (config.max_rate_pps < 0 || config.min_rate_pps < 0 || config.known_pass_pps < 0) {
    return absl::InvalidArgumentError("rates: must not be negative");
  }
  auto passes = [&](const RateTrial& t) { return t.LossRatio() <= config.loss_threshold; };

  RateSearchResult result;
  RateTrial first;
  if (config.first_trial.has_value()) {
    first = *config.first_trial;
  } else {
    absl::StatusOr<RateTrial> t = trial(config.max_rate_pps);
    if (!t.ok()) return t.status();
    first = *t;
  }
  result.steps.push_back({first, passes(first)});
  if (passes(first)) {
    result.found = EffectiveRate(first) >= config.min_rate_pps;
    result.rate_pps = result.found ? EffectiveRate(first) : 0;
    result.limited_by_sender = true;
    return result;
  }

  double lo = config.known_pass_pps;  // highest rate known to pass (0: none yet)
  double hi = EffectiveRate(first);   // lowest rate known to fail
  if (lo >= hi) lo = 0;               // a stale hint cannot sit above a failure
  auto run = [&](double rate) -> absl::StatusOr<RateSearchStep> {
    absl::StatusOr<RateTrial> t = trial(rate);
    if (!t.ok()) return t.status();
    result.steps.push_back({*t, passes(*t)});
    return result.steps.back();
  };
  auto budget_left = [&] { return static_cast<int>(result.steps.size()) < config.max_trials; };
  while (budget_left() && hi - lo > config.resolution * hi && hi >= config.min_rate_pps) {
    double rate = (lo + hi) / 2;
    if (rate < config.min_rate_pps) rate = config.min_rate_pps;
    absl::StatusOr<RateSearchStep> step = run(rate);
    if (!step.ok()) return step.status();
    double effective = EffectiveRate(step->trial);
    if (!step->pass && effective <= lo) {
      // A failure at or below a rate that passed (the sender fell short of the asked rate and
      // still lost packets): noise, or the earlier pass was luck. One retry at the same rate
      // decides; without budget for it, the conservative reading wins.
      ++result.inconsistencies;
      if (budget_left()) {
        step = run(rate);
        if (!step.ok()) return step.status();
        effective = EffectiveRate(step->trial);
      }
      if (!step->pass && effective <= lo) lo = 0;
    }
    if (step->pass) {
      lo = std::max(lo, effective);
    } else {
      hi = effective;
    }
    if (!step->pass && effective <= config.min_rate_pps) break;
  }
  result.fail_pps = hi;
  result.found = lo >= config.min_rate_pps;
  result.rate_pps = result.found ? lo : 0;
  return result;
}

}  // namespace nsmcert::bench
