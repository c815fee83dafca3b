#include "bench/datapath/rate_search.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace nsmcert::bench {
namespace {

// A simulated link: it carries up to `capacity_pps` and drops the excess; the sender cannot go
// faster than `sender_max_pps`. Trials last one second. Records every rate asked for.
struct SimulatedLink {
  SimulatedLink(double capacity, double sender_max, std::uint64_t extra = 0)
      : capacity_pps(capacity), sender_max_pps(sender_max), extra_loss(extra) {}
  double capacity_pps;
  double sender_max_pps;
  std::uint64_t extra_loss;  // packets lost in every trial regardless of rate
  std::vector<double> asked;

  RateTrialFn Fn() {
    return [this](double rate) -> absl::StatusOr<RateTrial> {
      asked.push_back(rate);
      const double achieved = rate == 0 ? sender_max_pps : std::min(rate, sender_max_pps);
      RateTrial t;
      t.offered_pps = rate;
      t.achieved_pps = achieved;
      t.sent = static_cast<std::uint64_t>(std::llround(achieved));
      const auto carried =
          static_cast<std::uint64_t>(std::llround(std::min(achieved, capacity_pps)));
      t.lost = std::min(t.sent, t.sent - carried + extra_loss);
      return t;
    };
  }
};

TEST(RateSearchTest, ConvergesOnTheZeroLossRate) {
  SimulatedLink link(1'000'000, 3'000'000);
  RateSearchConfig config;
  config.resolution = 0.01;
  config.max_trials = 20;
  absl::StatusOr<RateSearchResult> r = FindRate(config, link.Fn());
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->found);
  EXPECT_FALSE(r->limited_by_sender);
  EXPECT_LE(r->rate_pps, 1'000'000);
  EXPECT_GE(r->rate_pps, 990'000);
  EXPECT_GT(r->fail_pps, 1'000'000);
  EXPECT_EQ(link.asked.front(), 0) << "first trial unthrottled";
  EXPECT_LE(r->steps.size(), 10u) << "binary search halves the bracket each time";
  for (const RateSearchStep& step : r->steps) {
    EXPECT_EQ(step.pass, step.trial.achieved_pps <= 1'000'000) << step.trial.achieved_pps;
  }
}

TEST(RateSearchTest, PartialDropRateSitsAboveTheCapacity) {
  SimulatedLink link(1'000'000, 3'000'000);
  RateSearchConfig config;
  config.loss_threshold = 0.005;
  config.resolution = 0.001;
  config.max_trials = 30;
  absl::StatusOr<RateSearchResult> r = FindRate(config, link.Fn());
  ASSERT_TRUE(r.ok()) << r.status();
  // loss (r - C) / r <= 0.5%  <=>  r <= C / 0.995
  const double pdr = 1'000'000 / 0.995;
  EXPECT_LE(r->rate_pps, pdr + 1);
  EXPECT_GE(r->rate_pps, pdr * 0.999);
}

TEST(RateSearchTest, StopsAtMaxTrials) {
  SimulatedLink link(1'000'000, 3'000'000);
  RateSearchConfig config;
  config.resolution = 1e-9;
  config.max_trials = 5;
  absl::StatusOr<RateSearchResult> r = FindRate(config, link.Fn());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->steps.size(), 5u);
  EXPECT_EQ(link.asked.size(), 5u);
  EXPECT_TRUE(r->found);
  EXPECT_LE(r->rate_pps, 1'000'000);
}

TEST(RateSearchTest, SenderLimitedWhenTheFirstTrialPasses) {
  SimulatedLink link(5'000'000, 1'000'000);
  absl::StatusOr<RateSearchResult> r = FindRate(RateSearchConfig{}, link.Fn());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->found);
  EXPECT_TRUE(r->limited_by_sender);
  EXPECT_DOUBLE_EQ(r->rate_pps, 1'000'000);
  EXPECT_EQ(link.asked.size(), 1u);
}

TEST(RateSearchTest, NotFoundWhenEveryTrialLoses) {
  SimulatedLink link(1e9, 1'000'000, 1);
  RateSearchConfig config;
  config.max_trials = 100;
  config.min_rate_pps = 1000;
  absl::StatusOr<RateSearchResult> r = FindRate(config, link.Fn());
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->found);
  EXPECT_EQ(r->rate_pps, 0);
  EXPECT_LT(link.asked.size(), 100u) << "gives up at the minimum rate";
  EXPECT_GE(*std::min_element(link.asked.begin() + 1, link.asked.end()), 1000);
}

TEST(RateSearchTest, StartsFromKnownResults) {
  SimulatedLink link(1'000'000, 3'000'000);
  RateSearchConfig config;
  config.loss_threshold = 0.005;
  config.known_pass_pps = 990'000;
  config.first_trial = RateTrial{0, 3'000'000, 3'000'000, 2'000'000};
  config.resolution = 0.01;
  absl::StatusOr<RateSearchResult> r = FindRate(config, link.Fn());
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(link.asked.empty());
  EXPECT_NE(link.asked.front(), 0) << "the given first trial is not run again";
  EXPECT_GT(link.asked.front(), 990'000) << "searches above the known pass";
  EXPECT_GE(r->rate_pps, 990'000);
  EXPECT_EQ(r->steps.front().trial.achieved_pps, 3'000'000);
}

// A link that passes up to 300k, and once (the second trial) at 500k by luck; the trials listed
// in `stalls` achieve only 400k although asked for more, and lose packets.
RateTrialFn NoisyLink(int* calls, std::vector<int> stalls) {
  return [calls, stalls](double rate) -> absl::StatusOr<RateTrial> {
    ++*calls;
    double achieved = rate == 0 ? 1'000'000 : rate;
    if (std::find(stalls.begin(), stalls.end(), *calls) != stalls.end()) achieved = 400'000;
    const bool pass = achieved <= 300'000 || *calls == 2;
    return RateTrial{rate, achieved, 1000, pass ? 0u : 10u};
  };
}

TEST(RateSearchTest, DiscardsAPassContradictedTwiceByALowerFailure) {
  int calls = 0;
  RateSearchConfig config;
  config.resolution = 0.05;
  config.max_trials = 30;
  absl::StatusOr<RateSearchResult> r = FindRate(config, NoisyLink(&calls, {3, 4}));
  ASSERT_TRUE(r.ok());
  ASSERT_GE(r->steps.size(), 4u);
  EXPECT_TRUE(r->steps[1].pass);
  EXPECT_EQ(r->steps[2].trial.offered_pps, r->steps[3].trial.offered_pps) << "retried";
  EXPECT_EQ(r->inconsistencies, 1);
  EXPECT_TRUE(r->found);
  EXPECT_LE(r->rate_pps, 300'000);
  EXPECT_GE(r->rate_pps, 300'000 * 0.95);
}

TEST(RateSearchTest, KeepsAPassWhenTheRetryDisagreesWithALowFailure) {
  int calls = 0;
  RateSearchConfig config;
  config.resolution = 0.05;
  config.max_trials = 30;
  absl::StatusOr<RateSearchResult> r = FindRate(config, NoisyLink(&calls, {3}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->inconsistencies, 1);
  EXPECT_TRUE(r->found);
  EXPECT_EQ(r->rate_pps, 500'000) << "the retry failed above the pass: an ordinary failure";
}

TEST(RateSearchTest, PropagatesTrialErrors) {
  int calls = 0;
  RateTrialFn failing = [&](double) -> absl::StatusOr<RateTrial> {
    if (++calls == 2) return absl::InternalError("sendmmsg: boom");
    return RateTrial{0, 1000, 1000, 500};
  };
  absl::StatusOr<RateSearchResult> r = FindRate(RateSearchConfig{}, failing);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(calls, 2);
}

TEST(RateSearchTest, RejectsBadConfig) {
  SimulatedLink link(1, 1);
  RateSearchConfig bad_loss;
  bad_loss.loss_threshold = 1;
  EXPECT_EQ(FindRate(bad_loss, link.Fn()).status().code(), absl::StatusCode::kInvalidArgument);
  RateSearchConfig bad_resolution;
  bad_resolution.resolution = 0;
  EXPECT_EQ(FindRate(bad_resolution, link.Fn()).status().code(),
            absl::StatusCode::kInvalidArgument);
  RateSearchConfig bad_trials;
  bad_trials.max_trials = 0;
  EXPECT_EQ(FindRate(bad_trials, link.Fn()).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(link.asked.empty());
}

}  // namespace
}  // namespace nsmcert::bench
