#include "bench/datapath/suite.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/datapath/probe.h"

namespace nsmcert::bench {
namespace {

using Json = nlohmann::json;

// A path that is set up, with the generator that measures it.
struct LivePath {
  const PathKind* kind = nullptr;
  std::unique_ptr<PathUnderTest> path;
  std::unique_ptr<TrafficGenerator> generator;
};

bool Cancelled(const SuiteConfig& config) {
  return config.cancel != nullptr && config.cancel->load(std::memory_order_relaxed);
}

RateTrial ToRateTrial(const TrialResult& t) {
  return RateTrial{t.offered_pps, t.sent_pps, t.sent, t.lost};
}

std::string Mpps(double pps) { return absl::StrFormat("%.3f Mpps", pps / 1e6); }

// One frame size's searches on one path: the zero-loss rate and, when asked for, the
// partial-drop rate (which starts from what the NDR search learnt).
struct RateSearches {
  RateSearchResult ndr;
  std::optional<RateSearchResult> pdr;
};

TrialConfig MakeTrialConfig(const SuiteConfig& config, size_t payload, double rate,
                            std::chrono::milliseconds duration, TrialMode mode) {
  TrialConfig t;
  t.mode = mode;
  t.payload_bytes = payload;
  t.rate_pps = rate;
  t.duration = duration;
  t.drain = config.drain;
  t.busy_poll = config.busy_poll;
  t.realtime_priority = config.realtime_priority;
  t.cancel = config.cancel;
  return t;
}

absl::StatusOr<RateSearches> SearchRates(TrafficGenerator& generator, size_t payload,
                                         const SuiteConfig& config) {
  RateTrialFn run = [&](double rate) -> absl::StatusOr<RateTrial> {
    absl::StatusOr<TrialResult> t = generator.Run(
        MakeTrialConfig(config, payload, rate, config.search_trial, TrialMode::kOneWay));
    if (!t.ok()) return t.status();
    return ToRateTrial(*t);
  };
  RateSearchConfig ndr_config;
  ndr_config.resolution = config.resolution;
  ndr_config.max_trials = config.max_trials;
  absl::StatusOr<RateSearchResult> ndr = FindRate(ndr_config, run);
  if (!ndr.ok()) return ndr.status();
  RateSearches out{*std::move(ndr), std::nullopt};
  if (config.pdr_loss > 0) {
    RateSearchConfig pdr_config = ndr_config;
    pdr_config.loss_threshold = config.pdr_loss;
    pdr_config.known_pass_pps = out.ndr.rate_pps;
    pdr_config.first_trial = out.ndr.steps.front().trial;  // the top-rate trial, reused
    absl::StatusOr<RateSearchResult> pdr = FindRate(pdr_config, run);
    if (!pdr.ok()) return pdr.status();
    out.pdr = *std::move(pdr);
  }
  return out;
}

// The run whose rate is the median (the lower one of the middle two for an even count).
template <class Get>
const RateSearchResult& MedianBy(const std::vector<RateSearches>& runs, Get get) {
  std::vector<const RateSearchResult*> sorted;
  for (const RateSearches& r : runs) sorted.push_back(get(r));
  std::sort(sorted.begin(), sorted.end(), [](const RateSearchResult* a, const RateSearchResult* b) {
    return a->rate_pps < b->rate_pps;
  });
  return *sorted[(sorted.size() - 1) / 2];
}

template <class Get>
Json RatesOf(const std::vector<RateSearches>& runs, Get get) {
  Json out = Json::array();
  for (const RateSearches& r : runs) out.push_back(get(r)->rate_pps);
  return out;
}

absl::Status Validate(const SuiteConfig& c) {
  if (c.frame_sizes.empty()) return absl::InvalidArgumentError("frame sizes: empty");
  for (size_t size : c.frame_sizes) {
    if (absl::StatusOr<size_t> p = UdpPayloadForFrame(size); !p.ok()) return p.status();
  }
  if (c.search_trial.count() <= 0) return absl::InvalidArgumentError("search trial: must be > 0");
  if (c.latency_trial.count() <= 0) {
    return absl::InvalidArgumentError("latency trial: must be > 0");
  }
  if (c.rtt_trial.count() <= 0) return absl::InvalidArgumentError("rtt trial: must be > 0");
  if (c.drain.count() < 0) return absl::InvalidArgumentError("drain: must be >= 0");
  if (c.pdr_loss < 0 || c.pdr_loss >= 1) return absl::InvalidArgumentError("pdr loss: [0, 1)");
  for (double f : c.latency_fractions) {
    if (!(f > 0 && f <= 1))
      return absl::InvalidArgumentError("latency fraction: must be in (0, 1]");
  }
  if (c.rtt_rate_pps < 0) return absl::InvalidArgumentError("rtt rate: must be >= 0");
  if (c.realtime_priority < 0 || c.realtime_priority > 99) {
    return absl::InvalidArgumentError("realtime priority: must be in [0, 99]");
  }
  if (c.udp_repeats < 1) return absl::InvalidArgumentError("udp repeats: must be >= 1");
  if (c.tcp_seconds < 0 || c.tcp_repeats < 0) {
    return absl::InvalidArgumentError("tcp seconds/repeats: must be >= 0");
  }
  return absl::OkStatus();
}

}  // namespace

SuiteConfig SmokeSuiteConfig() {
  SuiteConfig c;
  c.frame_sizes = {64};
  c.search_trial = std::chrono::milliseconds(100);
  c.drain = std::chrono::milliseconds(50);
  c.resolution = 0.1;
  c.max_trials = 6;
  c.udp_repeats = 1;
  c.realtime_priority = 0;  // a CI run shares its machine; its figures are not kept
  c.latency_trial = std::chrono::milliseconds(100);
  c.rtt_rate_pps = 2000;
  c.rtt_trial = std::chrono::milliseconds(200);
  c.tcp_seconds = 1;
  c.tcp_repeats = 1;
  return c;
}

Json ToJson(const LatencySummary& l) {
  Json cdf = Json::array();
  for (const CdfPoint& p : l.cdf) cdf.push_back({p.quantile, p.ns});
  return Json{{"count", l.count},   {"min_ns", l.min_ns},   {"p50_ns", l.p50_ns},
              {"p90_ns", l.p90_ns}, {"p99_ns", l.p99_ns},   {"p999_ns", l.p999_ns},
              {"max_ns", l.max_ns}, {"mean_ns", l.mean_ns}, {"cdf", cdf}};
}

Json ToJson(const TrialResult& t) {
  return Json{{"mode", TrialModeName(t.mode)},  {"payload_bytes", t.payload_bytes},
              {"offered_pps", t.offered_pps},   {"sent_pps", t.sent_pps},
              {"send_seconds", t.send_seconds}, {"sent", t.sent},
              {"received", t.received},         {"lost", t.lost},
              {"loss_ratio", t.LossRatio()},    {"duplicates", t.duplicates},
              {"reordered", t.reordered},       {"stray", t.stray},
              {"send_retries", t.send_retries}, {"latency", ToJson(t.latency)}};
}

Json ToJson(const RateSearchResult& s, size_t frame_size) {
  Json trials = Json::array();
  for (const RateSearchStep& step : s.steps) {
    trials.push_back({{"offered_pps", step.trial.offered_pps},
                      {"sent_pps", step.trial.achieved_pps},
                      {"sent", step.trial.sent},
                      {"lost", step.trial.lost},
                      {"loss_ratio", step.trial.LossRatio()},
                      {"pass", step.pass}});
  }
  return Json{{"found", s.found},
              {"rate_pps", s.rate_pps},
              {"frame_bits_per_second", s.rate_pps * static_cast<double>(frame_size) * 8},
              {"limited_by_sender", s.limited_by_sender},
              {"fail_pps", s.fail_pps},
              {"inconsistencies", s.inconsistencies},
              {"trials", trials}};
}

Json ToJson(const TcpBulkResult& t) {
  return Json{{"seconds", t.seconds},
              {"sent_bps", t.sent_bps},
              {"received_bps", t.received_bps},
              {"retransmits", t.retransmits},
              {"streams", t.streams}};
}

Json MachineInfo() {
  Json out;
  utsname u{};
  if (::uname(&u) == 0) {
    out["kernel"] = absl::StrCat(u.sysname, " ", u.release);
    out["arch"] = u.machine;
  }
  out["cpus"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  // Other work on the machine shows in the figures; the load says how much there was.
  std::ifstream loadavg("/proc/loadavg");
  double load1 = 0, load5 = 0, load15 = 0;
  if (loadavg >> load1 >> load5 >> load15) out["loadavg"] = {load1, load5, load15};
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) out["cpu_model"] = line.substr(colon + 2);
      break;
    }
  }
  return out;
}

absl::StatusOr<Json> RunSuite(const std::vector<PathKind>& paths, const SuiteConfig& config,
                              std::ostream& log) {
  if (absl::Status s = Validate(config); !s.ok()) return s;
  if (paths.empty()) return absl::InvalidArgumentError("paths: none selected");

  Json doc;
  doc["schema"] = "nsmcert-datapath/1";
  doc["machine"] = MachineInfo();
  doc["config"] = {{"frame_sizes", config.frame_sizes},
                   {"search_trial_ms", config.search_trial.count()},
                   {"drain_ms", config.drain.count()},
                   {"resolution", config.resolution},
                   {"max_trials", config.max_trials},
                   {"udp_repeats", config.udp_repeats},
                   {"pdr_loss", config.pdr_loss},
                   {"latency_fractions", config.latency_fractions},
                   {"latency_trial_ms", config.latency_trial.count()},
                   {"rtt_rate_pps", config.rtt_rate_pps},
                   {"rtt_trial_ms", config.rtt_trial.count()},
                   {"tcp_seconds", config.tcp_seconds},
                   {"tcp_repeats", config.tcp_repeats},
                   {"busy_poll", config.busy_poll},
                   {"realtime_priority", config.realtime_priority},
                   {"tcp_realtime", config.tcp_realtime},
                   {"socket_buffer_bytes", config.generator.socket_buffer_bytes}};
  doc["paths"] = Json::array();
  doc["udp"] = Json::array();
  doc["rtt"] = Json::array();
  doc["tcp"] = Json::array();
  doc["errors"] = Json::array();
  auto record_error = [&](const std::string& path, const std::string& what, const absl::Status& s) {
    log << "ERROR " << path << " " << what << ": " << s.ToString() << "\n";
    doc["errors"].push_back(
        {{"path", path}, {"what", what}, {"message", std::string(s.message())}});
  };

  // Every path is set up before any is measured and stays up until the end, so measurements of
  // a path and of its baseline can alternate.
  std::vector<LivePath> live;
  for (const PathKind& kind : paths) {
    LivePath lp;
    lp.kind = &kind;
    lp.path = kind.make();
    const std::uint64_t t0 = MonotonicNs();
    absl::Status s = lp.path->Setup();
    const double setup_ms = static_cast<double>(MonotonicNs() - t0) / 1e6;
    if (!s.ok()) {
      record_error(kind.name, "setup", s);
      continue;
    }
    absl::StatusOr<std::unique_ptr<TrafficGenerator>> gen =
        TrafficGenerator::Create(lp.path->client(), lp.path->server(), config.generator);
    if (!gen.ok()) {
      record_error(kind.name, "open sockets", gen.status());
      continue;
    }
    lp.generator = *std::move(gen);
    absl::StatusOr<std::chrono::nanoseconds> warm = lp.generator->WarmUp(std::chrono::seconds(10));
    if (!warm.ok()) {
      record_error(kind.name, "warm up", warm.status());
      continue;
    }
    log << "path " << kind.name << ": set up in " << absl::StrFormat("%.1f", setup_ms)
        << " ms, passing traffic after "
        << absl::StrFormat("%.1f", static_cast<double>(warm->count()) / 1e6) << " ms (client "
        << lp.path->client().netns_name << " " << lp.path->client().ip << ", server "
        << lp.path->server().netns_name << " " << lp.path->server().ip << ")\n";
    doc["paths"].push_back({{"name", kind.name},
                            {"baseline", kind.baseline.empty() ? Json() : Json(kind.baseline)},
                            {"description", kind.description},
                            {"setup_ms", setup_ms}});
    live.push_back(std::move(lp));
  }

  for (size_t frame : config.frame_sizes) {
    const size_t payload = *UdpPayloadForFrame(frame);
    // Searches alternate between paths (all paths, then all again), so slow drift in the
    // machine's load spreads over a path and its baseline alike; the median run is reported.
    std::vector<std::vector<RateSearches>> runs(live.size());
    for (int repeat = 0; repeat < config.udp_repeats; ++repeat) {
      for (size_t i = 0; i < live.size(); ++i) {
        if (Cancelled(config)) return absl::CancelledError("suite cancelled");
        const std::string& name = live[i].kind->name;
        absl::StatusOr<RateSearches> searches = SearchRates(*live[i].generator, payload, config);
        if (!searches.ok()) {
          record_error(name, absl::StrCat("rate search, frame ", frame), searches.status());
          if (absl::IsCancelled(searches.status())) return searches.status();
          continue;
        }
        log << name << " frame " << frame << ": NDR " << Mpps(searches->ndr.rate_pps)
            << (searches->ndr.limited_by_sender ? " (sender-limited)" : "") << " after "
            << searches->ndr.steps.size() << " trials"
            << (searches->pdr ? absl::StrCat(", PDR ", Mpps(searches->pdr->rate_pps)) : "") << "\n";
        runs[i].push_back(*std::move(searches));
      }
    }
    for (size_t i = 0; i < live.size(); ++i) {
      if (runs[i].empty()) continue;
      LivePath& lp = live[i];
      const std::string& name = lp.kind->name;
      Json entry = {{"path", name}, {"frame_size", frame}, {"payload_bytes", payload}};
      const RateSearchResult& ndr = MedianBy(runs[i], [](const RateSearches& r) { return &r.ndr; });
      entry["ndr"] = ToJson(ndr, frame);
      entry["ndr"]["runs_pps"] = RatesOf(runs[i], [](const RateSearches& r) { return &r.ndr; });
      entry["pdr"] = Json();
      if (runs[i].front().pdr.has_value()) {
        auto pdr_of = [](const RateSearches& r) { return &*r.pdr; };
        entry["pdr"] = ToJson(MedianBy(runs[i], pdr_of), frame);
        entry["pdr"]["runs_pps"] = RatesOf(runs[i], pdr_of);
      }
      entry["latency"] = Json::array();
      if (ndr.found) {
        for (double fraction : config.latency_fractions) {
          if (Cancelled(config)) return absl::CancelledError("suite cancelled");
          const double rate = ndr.rate_pps * fraction;
          absl::StatusOr<TrialResult> t = lp.generator->Run(
              MakeTrialConfig(config, payload, rate, config.latency_trial, TrialMode::kOneWay));
          if (!t.ok()) {
            record_error(name, absl::StrCat("latency at ", fraction, " NDR, frame ", frame),
                         t.status());
            if (absl::IsCancelled(t.status())) return t.status();
            continue;
          }
          entry["latency"].push_back(
              {{"fraction", fraction}, {"rate_pps", rate}, {"trial", ToJson(*t)}});
          log << name << " frame " << frame << ": one-way latency at "
              << static_cast<int>(fraction * 100) << "% NDR: p50 "
              << absl::StrFormat("%.1f", t->latency.p50_ns / 1e3) << " us, p99.9 "
              << absl::StrFormat("%.1f", t->latency.p999_ns / 1e3) << " us, loss " << t->lost << "/"
              << t->sent << "\n";
        }
      }
      doc["udp"].push_back(entry);
    }
    if (config.rtt_rate_pps > 0) {
      for (LivePath& lp : live) {
        if (Cancelled(config)) return absl::CancelledError("suite cancelled");
        absl::StatusOr<TrialResult> t = lp.generator->Run(MakeTrialConfig(
            config, payload, config.rtt_rate_pps, config.rtt_trial, TrialMode::kEcho));
        if (!t.ok()) {
          record_error(lp.kind->name, absl::StrCat("rtt, frame ", frame), t.status());
          if (absl::IsCancelled(t.status())) return t.status();
          continue;
        }
        doc["rtt"].push_back({{"path", lp.kind->name},
                              {"frame_size", frame},
                              {"rate_pps", config.rtt_rate_pps},
                              {"trial", ToJson(*t)}});
        log << lp.kind->name << " frame " << frame << ": RTT p50 "
            << absl::StrFormat("%.1f", t->latency.p50_ns / 1e3) << " us, p99.9 "
            << absl::StrFormat("%.1f", t->latency.p999_ns / 1e3) << " us\n";
      }
    }
  }

  if (config.tcp_seconds > 0) {
    Iperf3Config iperf;
    iperf.program = config.iperf3;
    iperf.seconds = config.tcp_seconds;
    iperf.realtime_priority = config.tcp_realtime ? config.realtime_priority : 0;
    for (int repeat = 0; repeat < config.tcp_repeats; ++repeat) {
      for (LivePath& lp : live) {
        if (Cancelled(config)) return absl::CancelledError("suite cancelled");
        absl::StatusOr<TcpBulkResult> tcp = RunIperf3(lp.path->client(), lp.path->server(), iperf);
        if (!tcp.ok()) {
          record_error(lp.kind->name, "tcp (iperf3)", tcp.status());
          continue;
        }
        Json entry = ToJson(*tcp);
        entry["path"] = lp.kind->name;
        entry["repeat"] = repeat;
        doc["tcp"].push_back(entry);
        log << lp.kind->name << ": TCP " << absl::StrFormat("%.2f", tcp->received_bps / 1e9)
            << " Gbit/s, " << tcp->retransmits << " retransmits\n";
      }
    }
  }

  doc["machine_after"] = MachineInfo();
  for (LivePath& lp : live) {
    lp.generator.reset();  // the sockets hold the namespaces
    if (absl::Status s = lp.path->Teardown(); !s.ok()) {
      record_error(lp.kind->name, "teardown", s);
    }
  }
  return doc;
}

}  // namespace nsmcert::bench
