// nsmcert-scenario-bench: the scenario benchmarks (scenarios.h) on a reference domain, one JSON
// document ("nsmcert-scenario/1", README.md) on stdout or in --out. Needs root.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/datapath/path.h"
#include "bench/datapath/suite.h"
#include "bench/datapath/traffic_gen.h"
#include "bench/scenario/scenarios.h"
#include "reference/sdk/daemon/log.h"

namespace {

using nsmcert::bench::scenario::BenchDomain;
namespace scenario = nsmcert::bench::scenario;

constexpr char kUsage[] = R"(usage: nsmcert-scenario-bench [options]

Starts a reference domain (registry, per node an nsmgr and a forwarder, an endpoint on each node)
on the two-node topology and measures, with in-process clients in the client workload's namespace:
  setup     Request round trip (p50/p90/p99) and connections per second, local and remote, at
            each concurrency; baseline: gRPC health checks on the same nsmgr
  memory    RSS of nsmgr, forwarder and endpoint per connection
  heal      from killing a role to the first ping through the healed connection
  datapath  the data-path suite over connections the forwarders programmed, next to plain veth
            and plain VXLAN
and writes one JSON document. Not run unless named in --only:
  profile   where one connection's setup time goes: Requests and Closes sent straight to each
            hop in turn (endpoint, forwarder, nsmgr), with the CPU time every daemon spent per
            operation (bench/scenario/profile_setup.py attaches perf and strace to it)

  --smoke                 a quick run (< 30 s): few connections, one heal, a short data path
  --only=a,b              run only these parts (setup, memory, heal, datapath, profile)
  --connections=N         per setup round (default 200) and for the memory part
  --concurrency=1,100,... setup concurrency levels (default 1,100,1000)
  --heal-roles=a,b        nse, local-forwarder, remote-forwarder, remote-nsmgr, registry
  --heal-reps=N           repetitions per role (default 3)
  --frame-sizes=64,...    data-path frame sizes (default 64,512,1518)
  --bin-dir=DIR           where the reference daemons are (default: this build tree)
  --log-level=LEVEL       of the daemons (default WARN)
  --out=FILE              write the JSON here (default: stdout)
  --profile-targets=a,b   local/nse, local/forwarder, local/nsmgr, remote/nse,
                          remote/forwarder-b, remote/nsmgr-b, remote/nsmgr (default: all);
                          <target>@N runs that one at concurrency N (N connections at least)
  --profile-pause         before each target's Requests, before its Closes and after them, print
                          "profile: <phase> <json with pids>" on stderr and wait for a line on
                          stdin (to attach a profiler for exactly one phase)
  (profile takes --connections, default 100, and the first --concurrency, default 1)
)";

bool ParseIntList(const std::string& text, std::vector<int>& out) {
  out.clear();
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int v = 0;
    if (!absl::SimpleAtoi(part, &v) || v <= 0) return false;
    out.push_back(v);
  }
  return !out.empty();
}

std::filesystem::path DefaultBinDir() {
  // <build>/bench/scenario/nsmcert-scenario-bench -> <build>
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return exe.parent_path().parent_path().parent_path();
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  std::set<std::string> only;
  std::string out_file;
  std::string log_level = "WARN";
  std::filesystem::path bin_dir = DefaultBinDir();
  int connections = -1;
  std::vector<int> concurrency;
  std::vector<std::string> heal_roles;
  int heal_reps = -1;
  std::vector<int> frame_sizes;
  std::vector<std::string> profile_targets;
  bool profile_pause = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& flag) -> std::optional<std::string> {
      if (arg.rfind(flag + "=", 0) == 0) return arg.substr(flag.size() + 1);
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--smoke") {
      smoke = true;
    } else if (auto v = value("--only")) {
      for (absl::string_view p : absl::StrSplit(*v, ',', absl::SkipEmpty())) {
        const std::string part(p);
        if (part != "setup" && part != "memory" && part != "heal" && part != "datapath" &&
            part != "profile") {
          std::cerr << "--only: unknown part " << part << "\n";
          return 2;
        }
        only.insert(part);
      }
    } else if (auto v = value("--connections")) {
      if (!absl::SimpleAtoi(*v, &connections) || connections <= 0) {
        std::cerr << "--connections: want a positive number, got " << *v << "\n";
        return 2;
      }
    } else if (auto v = value("--concurrency")) {
      if (!ParseIntList(*v, concurrency)) {
        std::cerr << "--concurrency: want positive numbers, got " << *v << "\n";
        return 2;
      }
    } else if (auto v = value("--heal-roles")) {
      for (absl::string_view p : absl::StrSplit(*v, ',', absl::SkipEmpty())) {
        heal_roles.emplace_back(p);
      }
    } else if (auto v = value("--heal-reps")) {
      if (!absl::SimpleAtoi(*v, &heal_reps) || heal_reps <= 0) {
        std::cerr << "--heal-reps: want a positive number, got " << *v << "\n";
        return 2;
      }
    } else if (auto v = value("--frame-sizes")) {
      if (!ParseIntList(*v, frame_sizes)) {
        std::cerr << "--frame-sizes: want positive numbers, got " << *v << "\n";
        return 2;
      }
    } else if (auto v = value("--bin-dir")) {
      bin_dir = *v;
    } else if (auto v = value("--log-level")) {
      log_level = *v;
    } else if (auto v = value("--out")) {
      out_file = *v;
    } else if (auto v = value("--profile-targets")) {
      profile_targets.clear();
      for (absl::string_view t : absl::StrSplit(*v, ',', absl::SkipEmpty())) {
        profile_targets.emplace_back(t);
      }
    } else if (arg == "--profile-pause") {
      profile_pause = true;
    } else {
      std::cerr << "unknown argument " << arg << "\n" << kUsage;
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::cerr << "nsmcert-scenario-bench: needs root (network namespaces)\n";
    return 2;
  }
  // The in-process clients log like the daemons, at the same level.
  auto level = nsmcert::sdk::daemon::ParseLogLevel(log_level);
  if (!level.ok()) {
    std::cerr << "--log-level: " << level.status() << "\n";
    return 2;
  }
  nsmcert::sdk::daemon::InitLogging("nsmcert-scenario-bench", *level);
  auto wanted = [&](const char* part) { return only.empty() || only.count(part) > 0; };
  auto named = [&](const char* part) { return only.count(part) > 0; };

  nsmcert::bench::SweepStaleNetNs();
  nlohmann::json doc = {{"schema", "nsmcert-scenario/1"},
                        {"smoke", smoke},
                        {"machine", nsmcert::bench::MachineInfo()}};
  nlohmann::json errors = nlohmann::json::array();
  const auto started = nsmcert::bench::MonotonicNs();
  // Every part (and every setup concurrency level) gets a fresh domain: an overloaded round
  // must not leave the next part a busy or broken domain. A domain starts in well under 1 s.
  scenario::BenchDomainOptions options;
  options.bin_dir = bin_dir;
  options.log_level = log_level;
  std::vector<double> domain_start_ms;
  auto with_domain = [&](const char* part, const std::function<void(BenchDomain&)>& fn) {
    const auto t0 = nsmcert::bench::MonotonicNs();
    auto bench = BenchDomain::Start(options);
    if (!bench.ok()) {
      std::cerr << "nsmcert-scenario-bench: " << part << ": starting the domain: " << bench.status()
                << "\n";
      errors.push_back({{"what", part}, {"message", bench.status().ToString()}});
      return;
    }
    domain_start_ms.push_back(static_cast<double>(nsmcert::bench::MonotonicNs() - t0) / 1e6);
    fn(**bench);
  };
  if (wanted("setup")) {
    scenario::SetupConfig c;
    if (smoke) {
      c.concurrency = {1, 10};
      c.connections = 20;
    }
    if (connections > 0) c.connections = connections;
    if (!concurrency.empty()) c.concurrency = concurrency;
    doc["config"]["setup"] = {{"concurrency", c.concurrency}, {"connections", c.connections}};
    doc["setup"] = nlohmann::json::array();
    for (int level : c.concurrency) {
      scenario::SetupConfig one = c;
      one.concurrency = {level};
      with_domain("setup", [&](BenchDomain& bench) {
        nlohmann::json rounds = scenario::MeasureSetup(bench, one, std::cerr);
        if (!rounds.is_array()) {
          errors.push_back({{"what", "setup"}, {"message", rounds.dump()}});
          return;
        }
        for (auto& r : rounds) doc["setup"].push_back(r);
      });
    }
  }
  if (wanted("memory")) {
    scenario::MemoryConfig c;
    if (smoke) c.connections = 20;
    if (connections > 0) c.connections = connections;
    doc["config"]["memory"] = {{"connections", c.connections}, {"concurrency", c.concurrency}};
    with_domain("memory", [&](BenchDomain& bench) {
      doc["memory"] = scenario::MeasureMemory(bench, c, std::cerr);
    });
  }
  if (wanted("heal")) {
    scenario::HealConfig c;
    if (smoke) {
      c.roles = {"local-forwarder"};
      c.repetitions = 1;
      c.max_window = absl::Seconds(10);
      c.quiet = absl::Seconds(1);
      c.stable = absl::Milliseconds(300);
    }
    if (!heal_roles.empty()) c.roles = heal_roles;
    if (heal_reps > 0) c.repetitions = heal_reps;
    doc["config"]["heal"] = {{"roles", c.roles}, {"repetitions", c.repetitions}};
    with_domain("heal", [&](BenchDomain& bench) {
      doc["heal"] = scenario::MeasureHeal(bench, c, std::cerr);
    });
  }
  if (wanted("datapath")) {
    scenario::DataPathConfig c;
    if (smoke) {
      c.suite = nsmcert::bench::SmokeSuiteConfig();
      c.remote = false;
    } else {
      c.suite.frame_sizes = {64, 512, 1518};
    }
    if (!frame_sizes.empty()) c.suite.frame_sizes.assign(frame_sizes.begin(), frame_sizes.end());
    with_domain("datapath", [&](BenchDomain& bench) {
      auto dp = scenario::MeasureDataPath(bench, c, std::cerr);
      if (dp.ok()) {
        doc["datapath"] = *dp;
      } else {
        std::cerr << "nsmcert-scenario-bench: data path: " << dp.status() << "\n";
        errors.push_back({{"what", "datapath"}, {"message", dp.status().ToString()}});
      }
    });
  }
  if (named("profile")) {
    scenario::ProfileConfig c;
    if (smoke) {
      c.connections = 5;
      c.warmup = 1;
    }
    if (connections > 0) c.connections = connections;
    if (!concurrency.empty()) c.concurrency = concurrency.front();
    if (!profile_targets.empty()) c.targets = profile_targets;
    c.pause = profile_pause;
    doc["config"]["profile"] = {
        {"targets", c.targets}, {"connections", c.connections}, {"concurrency", c.concurrency}};
    with_domain("profile", [&](BenchDomain& bench) {
      doc["profile"] = scenario::MeasureProfile(bench, c, std::cerr);
    });
  }
  if (!domain_start_ms.empty()) {
    doc["domain_start_ms"] = *std::min_element(domain_start_ms.begin(), domain_start_ms.end());
  }
  doc["errors"] = errors;
  doc["wall_seconds"] = static_cast<double>(nsmcert::bench::MonotonicNs() - started) / 1e9;
  if (out_file.empty()) {
    std::cout << doc.dump(1) << "\n";
  } else {
    std::ofstream(out_file) << doc.dump(1) << "\n";
  }
  return errors.empty() ? 0 : 1;
}
