// nsmcert-trafficgen: runs the data-path benchmark suite (suite.h) over built-in and external
// paths and writes its JSON document. Needs root (namespaces, veth, VXLAN, tc).
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/datapath/path.h"
#include "bench/datapath/suite.h"

namespace {

using nsmcert::bench::PathKind;
using nsmcert::bench::SuiteConfig;

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

constexpr char kUsage[] = R"(usage: nsmcert-trafficgen [options]

Measures UDP zero-loss (NDR) and 0.5%-loss (PDR) rates by binary search, one-way latency at
fractions of the NDR, round-trip time at a fixed rate, and TCP bulk throughput (iperf3) over each
path, and writes one JSON document. Paths are set up in fresh namespaces and always removed.

  --paths=a,b,...        built-in paths to measure (default: all; see --list-paths)
  --external=SPEC        also measure an existing path (repeatable):
                         name=N,client-ns=NS,client-ip=IP,server-ns=NS,server-ip=IP[,baseline=B]
  --smoke                quick preset: one frame size, short trials (< 30 s for four paths)
  --frame-sizes=64,...   Ethernet frame sizes incl. FCS (default: RFC 2544 64..1518)
  --trial-ms=N           binary-search trial length        --drain-ms=N   straggler wait
  --resolution=F         search stops at this relative gap --max-trials=N per search
  --udp-repeats=N        searches per path and frame size (median reported)
  --pdr-loss=F           loss ratio of the PDR search (0 = skip)
  --fractions=F,...      latency trials at these fractions of the NDR
  --latency-ms=N         latency trial length
  --rtt-rate=PPS         echo trial rate (0 = skip)        --rtt-ms=N     echo trial length
  --tcp-seconds=N        iperf3 test length (0 = skip)     --tcp-repeats=N
  --iperf3=PATH          iperf3 program
  --no-tcp-realtime      run iperf3 with normal scheduling (default: at the --realtime priority)
  --busy-poll            receivers poll without sleeping
  --realtime=PRIO        SCHED_FIFO priority of the generator's threads, shielding them from
                         other load on the machine (default 50, 0 with --smoke; 0 = off)
  --socket-buffer=BYTES  SO_RCVBUF/SO_SNDBUF of the generator's sockets (default 2 MiB)
  --out=FILE             write the JSON here (default: stdout)
  --list-paths           print the built-in paths and exit
)";

bool ParseSizeList(const std::string& text, std::vector<size_t>* out) {
  out->clear();
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    char* end = nullptr;
    std::string s(part);
    unsigned long v = std::strtoul(s.c_str(), &end, 10);
    if (end == s.c_str() || *end != '\0') return false;
    out->push_back(v);
  }
  return !out->empty();
}

bool ParseDoubleList(const std::string& text, std::vector<double>* out) {
  out->clear();
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    char* end = nullptr;
    std::string s(part);
    double v = std::strtod(s.c_str(), &end);
    if (end == s.c_str() || *end != '\0') return false;
    out->push_back(v);
  }
  return true;
}

bool ParseDouble(const std::string& text, double* out) {
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end != text.c_str() && *end == '\0';
}

bool ParseInt(const std::string& text, int* out) {
  char* end = nullptr;
  long v = std::strtol(text.c_str(), &end, 10);
  *out = static_cast<int>(v);
  return end != text.c_str() && *end == '\0';
}

int Fail(const std::string& message) {
  std::cerr << "nsmcert-trafficgen: " << message << "\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // --smoke first, so other flags refine the preset whatever their order.
  SuiteConfig config;
  for (const std::string& a : args) {
    if (a == "--smoke") config = nsmcert::bench::SmokeSuiteConfig();
  }
  std::vector<std::string> path_names;
  std::vector<std::string> externals;
  std::string out_file;
  for (const std::string& arg : args) {
    const size_t eq = arg.find('=');
    const std::string flag = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    auto bad = [&] { return Fail(absl::StrCat("bad value for ", flag, ": \"", value, "\"")); };
    int ms = 0;
    if (flag == "--help" || flag == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (flag == "--smoke") {
      // applied above
    } else if (flag == "--list-paths") {
      for (const PathKind& k : nsmcert::bench::BuiltinPaths()) {
        std::cout << k.name << (k.baseline.empty() ? "" : " (vs " + k.baseline + ")") << ": "
                  << k.description << "\n";
      }
      return 0;
    } else if (flag == "--paths") {
      for (absl::string_view p : absl::StrSplit(value, ',', absl::SkipEmpty())) {
        path_names.emplace_back(p);
      }
    } else if (flag == "--external") {
      externals.push_back(value);
    } else if (flag == "--frame-sizes") {
      if (!ParseSizeList(value, &config.frame_sizes)) return bad();
    } else if (flag == "--trial-ms") {
      if (!ParseInt(value, &ms)) return bad();
      config.search_trial = std::chrono::milliseconds(ms);
    } else if (flag == "--drain-ms") {
      if (!ParseInt(value, &ms)) return bad();
      config.drain = std::chrono::milliseconds(ms);
    } else if (flag == "--resolution") {
      if (!ParseDouble(value, &config.resolution)) return bad();
    } else if (flag == "--max-trials") {
      if (!ParseInt(value, &config.max_trials)) return bad();
    } else if (flag == "--udp-repeats") {
      if (!ParseInt(value, &config.udp_repeats)) return bad();
    } else if (flag == "--pdr-loss") {
      if (!ParseDouble(value, &config.pdr_loss)) return bad();
    } else if (flag == "--fractions") {
      if (!ParseDoubleList(value, &config.latency_fractions)) return bad();
    } else if (flag == "--latency-ms") {
      if (!ParseInt(value, &ms)) return bad();
      config.latency_trial = std::chrono::milliseconds(ms);
    } else if (flag == "--rtt-rate") {
      if (!ParseDouble(value, &config.rtt_rate_pps)) return bad();
    } else if (flag == "--rtt-ms") {
      if (!ParseInt(value, &ms)) return bad();
      config.rtt_trial = std::chrono::milliseconds(ms);
    } else if (flag == "--tcp-seconds") {
      if (!ParseInt(value, &config.tcp_seconds)) return bad();
    } else if (flag == "--tcp-repeats") {
      if (!ParseInt(value, &config.tcp_repeats)) return bad();
    } else if (flag == "--no-tcp-realtime") {
      config.tcp_realtime = false;
    } else if (flag == "--iperf3") {
      config.iperf3 = value;
    } else if (flag == "--socket-buffer") {
      if (!ParseInt(value, &config.generator.socket_buffer_bytes)) return bad();
    } else if (flag == "--realtime") {
      if (!ParseInt(value, &config.realtime_priority)) return bad();
    } else if (flag == "--busy-poll") {
      config.busy_poll = true;
    } else if (flag == "--out") {
      out_file = value;
    } else {
      return Fail(absl::StrCat("unknown option ", arg, " (see --help)"));
    }
  }

  std::vector<PathKind> paths;
  if (path_names.empty() && externals.empty()) paths = nsmcert::bench::BuiltinPaths();
  for (const std::string& name : path_names) {
    absl::StatusOr<PathKind> kind = nsmcert::bench::FindBuiltinPath(name);
    if (!kind.ok()) return Fail(std::string(kind.status().message()));
    paths.push_back(*std::move(kind));
  }
  for (const std::string& spec : externals) {
    absl::StatusOr<PathKind> kind = nsmcert::bench::ParseExternalPath(spec);
    if (!kind.ok()) return Fail(std::string(kind.status().message()));
    paths.push_back(*std::move(kind));
  }

  for (const std::string& name : nsmcert::bench::SweepStaleNetNs()) {
    std::cerr << "removed namespace " << name << " left by an earlier run\n";
  }
  struct sigaction action {};
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  config.cancel = &g_interrupted;

  absl::StatusOr<nlohmann::json> doc = nsmcert::bench::RunSuite(paths, config, std::cerr);
  if (!doc.ok()) {
    std::cerr << "nsmcert-trafficgen: " << doc.status().ToString() << "\n";
    return absl::IsCancelled(doc.status()) ? 130 : 1;
  }
  const std::string text = doc->dump(1) + "\n";
  if (out_file.empty()) {
    std::cout << text;
  } else {
    std::ofstream out(out_file);
    out << text;
    if (!out.good()) return Fail(absl::StrCat("write ", out_file));
  }
  // Measurements that failed are in the document; the exit status says the run was not clean.
  return (*doc)["errors"].empty() ? 0 : 1;
}
