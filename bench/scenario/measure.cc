#include "bench/scenario/measure.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "bench/datapath/stats.h"

namespace nsmcert::bench::scenario {
namespace {

double NsToMs(double ns) { return ns / 1e6; }

std::vector<std::string_view> Fields(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

bool ParseU64(std::string_view text, std::uint64_t& out) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end;
}

std::vector<std::string_view> Lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

}  // namespace

MsSummary SummarizeMs(std::vector<std::int64_t>& samples_ns) {
  MsSummary out;
  if (samples_ns.empty()) return out;
  LatencySummary s = SummarizeLatency(samples_ns, 0);
  out.count = s.count;
  out.min_ms = NsToMs(static_cast<double>(s.min_ns));
  out.p50_ms = NsToMs(static_cast<double>(s.p50_ns));
  out.p90_ms = NsToMs(static_cast<double>(s.p90_ns));
  out.p99_ms = NsToMs(static_cast<double>(s.p99_ns));
  out.max_ms = NsToMs(static_cast<double>(s.max_ns));
  out.mean_ms = NsToMs(s.mean_ns);
  return out;
}

nlohmann::json ToJson(const MsSummary& s) {
  return {{"count", s.count},   {"min_ms", s.min_ms}, {"p50_ms", s.p50_ms},  {"p90_ms", s.p90_ms},
          {"p99_ms", s.p99_ms}, {"max_ms", s.max_ms}, {"mean_ms", s.mean_ms}};
}

double PerSecond(std::uint64_t count, std::int64_t wall_ns) {
  if (wall_ns <= 0) return 0;
  return static_cast<double>(count) * 1e9 / static_cast<double>(wall_ns);
}

absl::StatusOr<std::int64_t> ParseVmRssBytes(std::string_view proc_status) {
  for (std::string_view line : Lines(proc_status)) {
    if (!line.starts_with("VmRSS:")) continue;
    std::vector<std::string_view> fields = Fields(line.substr(6));
    std::uint64_t kb = 0;
    if (fields.size() != 2 || fields[1] != "kB" || !ParseU64(fields[0], kb)) {
      return absl::InvalidArgumentError(
          absl::StrCat("VmRSS line does not read \"VmRSS: <n> kB\": ", std::string(line)));
    }
    return static_cast<std::int64_t>(kb) * 1024;
  }
  return absl::NotFoundError("no VmRSS line (a kernel thread or a zombie?)");
}

absl::StatusOr<std::int64_t> ReadRssBytes(pid_t pid) {
  auto text = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  auto rss = ParseVmRssBytes(*text);
  if (!rss.ok()) {
    return absl::Status(rss.status().code(),
                        absl::StrCat("process ", pid, ": ", std::string(rss.status().message())));
  }
  return rss;
}

absl::StatusOr<ProcessCpu> ParseProcPidStat(std::string_view text) {
  const size_t close = text.rfind(')');
  if (close == std::string_view::npos) {
    return absl::InvalidArgumentError("/proc/<pid>/stat: no \")\" after the command name");
  }
  // Fields after the command: state is field 3, utime 14, stime 15, num_threads 20.
  std::vector<std::string_view> fields = Fields(text.substr(close + 1));
  std::uint64_t user = 0, system = 0, threads = 0;
  if (fields.size() < 18 || !ParseU64(fields[11], user) || !ParseU64(fields[12], system) ||
      !ParseU64(fields[17], threads)) {
    return absl::InvalidArgumentError(
        "/proc/<pid>/stat: fields utime (14), stime (15), num_threads (20) do not parse");
  }
  ProcessCpu out;
  out.user_ticks = static_cast<std::int64_t>(user);
  out.system_ticks = static_cast<std::int64_t>(system);
  out.threads = static_cast<std::int64_t>(threads);
  return out;
}

absl::StatusOr<ProcessCpu> ReadProcessCpu(pid_t pid) {
  auto text = ReadFile(absl::StrCat("/proc/", pid, "/stat"));
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("process ", pid, " is gone"));
  auto cpu = ParseProcPidStat(*text);
  if (!cpu.ok()) {
    return absl::Status(cpu.status().code(),
                        absl::StrCat("process ", pid, ": ", std::string(cpu.status().message())));
  }
  return cpu;
}

double MsPerTick() {
  const long hz = sysconf(_SC_CLK_TCK);
  return hz > 0 ? 1000.0 / static_cast<double>(hz) : 10.0;
}

std::vector<pid_t> FindPids(std::uint64_t netns_inode, std::string_view exe_name) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    std::uint64_t pid = 0;
    if (!ParseU64(name, pid)) continue;
    struct stat st {};
    if (stat((entry.path() / "ns" / "net").c_str(), &st) != 0) continue;
    if (static_cast<std::uint64_t>(st.st_ino) != netns_inode) continue;
    std::error_code link_ec;
    auto exe = std::filesystem::read_symlink(entry.path() / "exe", link_ec);
    if (link_ec || exe.filename().string() != exe_name) continue;
    out.push_back(static_cast<pid_t>(pid));
  }
  std::sort(out.begin(), out.end());
  return out;
}

double MemoryGrowth::BytesPerConnection() const {
  if (connections == 0) return 0;
  return static_cast<double>(after_bytes - before_bytes) / static_cast<double>(connections);
}

nlohmann::json ToJson(const MemoryGrowth& g) {
  return {{"process", g.process},
          {"before_bytes", g.before_bytes},
          {"after_bytes", g.after_bytes},
          {"connections", g.connections},
          {"bytes_per_connection", g.BytesPerConnection()}};
}

HealOutcome AnalyseHeal(std::int64_t kill_ns, const std::vector<Probe>& probes,
                        const std::vector<std::int64_t>& rerequests_ns) {
  HealOutcome out;
  std::vector<Probe> after;
  for (const Probe& p : probes) {
    if (p.sent_ns >= kill_ns) after.push_back(p);
  }
  // Outages: runs of unanswered probes, each lasting until the next answered send.
  bool in_run = false;
  std::int64_t run_start = 0;
  for (const Probe& p : after) {
    if (!p.ok) {
      if (!out.outage_start_ns) out.outage_start_ns = p.sent_ns - kill_ns;
      out.outage = true;
      if (!in_run) run_start = p.sent_ns;
      in_run = true;
    } else if (in_run) {
      out.longest_outage_ns = std::max(out.longest_outage_ns, p.sent_ns - run_start);
      in_run = false;
    }
  }
  if (in_run) {
    out.longest_outage_ns = std::max(out.longest_outage_ns, after.back().sent_ns - run_start);
  }
  for (std::int64_t t : rerequests_ns) {
    if (t >= kill_ns && (!out.rerequest_ns || t - kill_ns < *out.rerequest_ns)) {
      out.rerequest_ns = t - kill_ns;
    }
  }
  if (!out.outage && !out.rerequest_ns) {
    out.healed_ns = 0;
    return out;
  }
  // The final run of answered probes: the connection is back from its first probe on.
  size_t tail = after.size();
  while (tail > 0 && after[tail - 1].ok) --tail;
  if (tail == after.size()) return out;  // the last probe failed: not healed
  const std::int64_t threshold = out.rerequest_ns ? kill_ns + *out.rerequest_ns : kill_ns;
  for (size_t i = tail; i < after.size(); ++i) {
    if (after[i].sent_ns >= threshold) {
      out.healed_ns = after[i].sent_ns - kill_ns;
      break;
    }
  }
  return out;
}

nlohmann::json ToJson(const HealOutcome& o) {
  auto ms = [](const std::optional<std::int64_t>& ns) -> nlohmann::json {
    if (!ns) return nullptr;
    return NsToMs(static_cast<double>(*ns));
  };
  return {{"outage", o.outage},
          {"outage_start_ms", ms(o.outage_start_ns)},
          {"longest_outage_ms", NsToMs(static_cast<double>(o.longest_outage_ns))},
          {"rerequest_ms", ms(o.rerequest_ns)},
          {"healed_ms", ms(o.healed_ns)}};
}

std::optional<double> Median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

absl::StatusOr<std::vector<CpuTimes>> ParseProcStat(std::string_view text) {
  std::vector<CpuTimes> out;
  for (std::string_view line : Lines(text)) {
    if (!line.starts_with("cpu")) continue;
    std::vector<std::string_view> f = Fields(line);
    CpuTimes t;
    std::uint64_t values[8] = {};
    bool ok = f.size() >= 9;
    for (size_t i = 0; ok && i < 8; ++i) ok = ParseU64(f[i + 1], values[i]);
    if (ok && f[0] != "cpu") {
      std::uint64_t index = 0;
      ok = ParseU64(f[0].substr(3), index);
      t.cpu = static_cast<int>(index);
    }
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("/proc/stat line does not parse: ", std::string(line)));
    }
    t.user = values[0];
    t.nice = values[1];
    t.system = values[2];
    t.idle = values[3];
    t.iowait = values[4];
    t.irq = values[5];
    t.softirq = values[6];
    t.steal = values[7];
    out.push_back(t);
  }
  if (out.empty()) return absl::InvalidArgumentError("/proc/stat text has no cpu line");
  return out;
}

absl::StatusOr<std::vector<std::uint64_t>> ParseSoftirqRow(std::string_view text,
                                                           std::string_view row) {
  const std::string label = absl::StrCat(std::string(row), ":");
  for (std::string_view line : Lines(text)) {
    std::vector<std::string_view> f = Fields(line);
    if (f.empty() || f[0] != label) continue;
    std::vector<std::uint64_t> counts;
    for (size_t i = 1; i < f.size(); ++i) {
      std::uint64_t v = 0;
      if (!ParseU64(f[i], v)) {
        return absl::InvalidArgumentError(
            absl::StrCat("/proc/softirqs row ", std::string(row), " does not parse"));
      }
      counts.push_back(v);
    }
    return counts;
  }
  return absl::NotFoundError(absl::StrCat("/proc/softirqs has no row ", std::string(row)));
}

nlohmann::json CpuDeltaJson(const std::vector<CpuTimes>& before,
                            const std::vector<CpuTimes>& after) {
  nlohmann::json out = nlohmann::json::array();
  for (const CpuTimes& a : after) {
    auto b = std::find_if(before.begin(), before.end(),
                          [&](const CpuTimes& x) { return x.cpu == a.cpu; });
    if (b == before.end()) continue;
    auto d = [](std::uint64_t x, std::uint64_t y) { return x >= y ? x - y : 0; };
    const std::uint64_t user = d(a.user + a.nice, b->user + b->nice);
    const std::uint64_t system = d(a.system, b->system);
    const std::uint64_t softirq = d(a.softirq + a.irq, b->softirq + b->irq);
    const std::uint64_t idle = d(a.idle + a.iowait, b->idle + b->iowait);
    const std::uint64_t steal = d(a.steal, b->steal);
    const double total = static_cast<double>(user + system + softirq + idle + steal);
    auto share = [&](std::uint64_t v) { return total > 0 ? static_cast<double>(v) / total : 0.0; };
    out.push_back({{"cpu", a.cpu < 0 ? nlohmann::json("all") : nlohmann::json(a.cpu)},
                   {"ticks", user + system + softirq + idle + steal},
                   {"user", share(user)},
                   {"system", share(system)},
                   {"softirq", share(softirq)},
                   {"idle", share(idle)},
                   {"steal", share(steal)}});
  }
  return out;
}

}  // namespace nsmcert::bench::scenario
