#include "bench/scenario/measure.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "gtest/gtest.h"

namespace nsmcert::bench::scenario {
namespace {

TEST(SummarizeMsTest, NearestRankPercentilesInMilliseconds) {
  std::vector<std::int64_t> ns;
  for (int i = 100; i >= 1; --i) ns.push_back(i * 1'000'000);  // 1..100 ms, reversed
  MsSummary s = SummarizeMs(ns);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.min_ms, 1);
  EXPECT_DOUBLE_EQ(s.p50_ms, 50);
  EXPECT_DOUBLE_EQ(s.p90_ms, 90);
  EXPECT_DOUBLE_EQ(s.p99_ms, 99);
  EXPECT_DOUBLE_EQ(s.max_ms, 100);
  EXPECT_DOUBLE_EQ(s.mean_ms, 50.5);
}

TEST(SummarizeMsTest, EmptyIsAllZero) {
  std::vector<std::int64_t> none;
  MsSummary s = SummarizeMs(none);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(s.p99_ms, 0);
  EXPECT_EQ(ToJson(s)["count"], 0);
}

TEST(PerSecondTest, CountOverWallTime) {
  EXPECT_DOUBLE_EQ(PerSecond(200, 2'000'000'000), 100);
  EXPECT_DOUBLE_EQ(PerSecond(5, 0), 0);
  EXPECT_DOUBLE_EQ(PerSecond(5, -1), 0);
}

TEST(VmRssTest, ParsesKilobytes) {
  const char* status =
      "Name:\tnsmcert-nsmgr\nVmPeak:\t  900 kB\nVmRSS:\t   12345 kB\nRssAnon:\t 1 kB\n";
  auto rss = ParseVmRssBytes(status);
  ASSERT_TRUE(rss.ok()) << rss.status();
  EXPECT_EQ(*rss, 12345 * 1024);
}

TEST(VmRssTest, MissingAndMalformedLines) {
  EXPECT_EQ(ParseVmRssBytes("Name:\tkthreadd\nState:\tS\n").status().code(),
            absl::StatusCode::kNotFound);
  auto bad = ParseVmRssBytes("VmRSS:\t12x kB\n");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("12x"), std::string_view::npos);
  EXPECT_EQ(ParseVmRssBytes("VmRSS:\t12 MB\n").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(VmRssTest, ReadsOwnProcessAndNamesAGonePid) {
  auto own = ReadRssBytes(getpid());
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_GT(*own, 0);
  auto gone = ReadRssBytes(0x3fffffff);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
}

TEST(FindPidsTest, FindsThisProcessByNamespaceAndExecutable) {
  struct stat st {};
  ASSERT_EQ(stat("/proc/self/ns/net", &st), 0);
  auto exe = std::filesystem::read_symlink("/proc/self/exe");
  auto pids = FindPids(st.st_ino, exe.filename().string());
  EXPECT_NE(std::find(pids.begin(), pids.end(), getpid()), pids.end());
  EXPECT_TRUE(FindPids(st.st_ino, "no-such-executable-name").empty());
  EXPECT_TRUE(FindPids(1, exe.filename().string()).empty());
}

TEST(MemoryGrowthTest, PerConnectionMayBeNegative) {
  MemoryGrowth g;
  g.before_bytes = 1000;
  g.after_bytes = 3000;
  g.connections = 4;
  EXPECT_DOUBLE_EQ(g.BytesPerConnection(), 500);
  g.after_bytes = 600;
  EXPECT_DOUBLE_EQ(g.BytesPerConnection(), -100);
  g.connections = 0;
  EXPECT_DOUBLE_EQ(g.BytesPerConnection(), 0);
}

std::vector<Probe> Timeline(std::int64_t start, std::int64_t step, const std::string& pattern) {
  std::vector<Probe> out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    Probe p;
    p.sent_ns = start + static_cast<std::int64_t>(i) * step;
    p.ok = pattern[i] == '+';
    out.push_back(p);
  }
  return out;
}

TEST(AnalyseHealTest, OutageThenReRequestThenPings) {
  // Probes every 10 ns from t=0; kill at 25: probes at 30..60 fail, re-request at 75.
  auto probes = Timeline(0, 10, "++++----+++++");  // 0..120
  HealOutcome o = AnalyseHeal(25, probes, {75, 5});
  EXPECT_TRUE(o.outage);
  EXPECT_EQ(o.outage_start_ns, 40 - 25);
  EXPECT_EQ(o.longest_outage_ns, 80 - 40);
  EXPECT_EQ(o.rerequest_ns, 75 - 25);
  EXPECT_EQ(o.healed_ns, 80 - 25);  // first answered probe at or after the re-request
}

TEST(AnalyseHealTest, PingsAfterTheReRequestCountNotThoseBefore) {
  // The old path kept answering; the heal re-requested at 55 and the path was rebuilt.
  auto probes = Timeline(0, 10, "++++++++++");
  HealOutcome o = AnalyseHeal(20, probes, {55});
  EXPECT_FALSE(o.outage);
  EXPECT_EQ(o.rerequest_ns, 35);
  EXPECT_EQ(o.healed_ns, 60 - 20);
}

TEST(AnalyseHealTest, FlappingCountsOnlyTheFinalAnsweredRun) {
  auto probes = Timeline(0, 10, "+-+--+++");
  HealOutcome o = AnalyseHeal(0, probes, {});
  EXPECT_TRUE(o.outage);
  EXPECT_EQ(o.outage_start_ns, 10);
  EXPECT_EQ(o.longest_outage_ns, 50 - 30);
  EXPECT_FALSE(o.rerequest_ns.has_value());
  EXPECT_EQ(o.healed_ns, 50);
}

TEST(AnalyseHealTest, NotHealedWhenTheLastProbeFails) {
  auto probes = Timeline(0, 10, "++---");
  HealOutcome o = AnalyseHeal(5, probes, {30});
  EXPECT_TRUE(o.outage);
  EXPECT_EQ(o.longest_outage_ns, 40 - 20);
  EXPECT_FALSE(o.healed_ns.has_value());
  EXPECT_TRUE(ToJson(o)["healed_ms"].is_null());
}

TEST(AnalyseHealTest, NothingBrokeIsZero) {
  auto probes = Timeline(0, 10, "+++++");
  HealOutcome o = AnalyseHeal(10, probes, {3});  // a re-request before the kill does not count
  EXPECT_FALSE(o.outage);
  EXPECT_FALSE(o.rerequest_ns.has_value());
  EXPECT_EQ(o.healed_ns, 0);
}

TEST(AnalyseHealTest, ReRequestAfterTheLastProbeIsNotHealed) {
  auto probes = Timeline(0, 10, "+--++");
  HealOutcome o = AnalyseHeal(0, probes, {100});
  EXPECT_FALSE(o.healed_ns.has_value());
}

TEST(MedianTest, LowerMiddle) {
  EXPECT_FALSE(Median({}).has_value());
  EXPECT_EQ(Median({3, 1, 2}), 2);
  EXPECT_EQ(Median({4, 1, 3, 2}), 2);
}

constexpr char kProcStat[] =
    "cpu  100 5 50 1000 10 1 20 0 0 0\n"
    "cpu0 60 5 30 400 5 1 15 0 0 0\n"
    "cpu1 40 0 20 600 5 0 5 0 0 0\n"
    "intr 12345 0 0\n"
    "ctxt 999\n";

TEST(ProcStatTest, ParsesTotalAndPerCpu) {
  auto cpus = ParseProcStat(kProcStat);
  ASSERT_TRUE(cpus.ok()) << cpus.status();
  ASSERT_EQ(cpus->size(), 3u);
  EXPECT_EQ((*cpus)[0].cpu, -1);
  EXPECT_EQ((*cpus)[1].cpu, 0);
  EXPECT_EQ((*cpus)[1].softirq, 15u);
  EXPECT_EQ((*cpus)[2].cpu, 1);
  EXPECT_EQ((*cpus)[2].Busy(), 40u + 20u + 5u);
}

TEST(ProcStatTest, RejectsShortOrBadLines) {
  EXPECT_EQ(ParseProcStat("cpu 1 2 3\n").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("cpuX 1 2 3 4 5 6 7 8\n").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcStat("intr 1\n").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProcStatTest, DeltaShares) {
  auto before = ParseProcStat(kProcStat);
  auto after = ParseProcStat(
      "cpu  200 5 100 1050 10 1 70 0 0 0\n"
      "cpu0 110 5 55 425 5 1 40 0 0 0\n"
      "cpu1 90 0 45 625 5 0 30 0 0 0\n");
  ASSERT_TRUE(before.ok() && after.ok());
  nlohmann::json d = CpuDeltaJson(*before, *after);
  ASSERT_EQ(d.size(), 3u);
  EXPECT_EQ(d[0]["cpu"], "all");
  EXPECT_EQ(d[0]["ticks"], 100 + 50 + 50 + 50);
  EXPECT_DOUBLE_EQ(d[0]["user"].get<double>(), 100.0 / 250.0);
  EXPECT_DOUBLE_EQ(d[0]["softirq"].get<double>(), 50.0 / 250.0);
  EXPECT_EQ(d[1]["cpu"], 0);
  EXPECT_DOUBLE_EQ(d[1]["idle"].get<double>(), 25.0 / 125.0);
}

TEST(SoftirqTest, ReadsARow) {
  const char* text =
      "                    CPU0       CPU1\n"
      "          HI:          1          0\n"
      "      NET_RX:       5000       7000\n";
  auto row = ParseSoftirqRow(text, "NET_RX");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(*row, (std::vector<std::uint64_t>{5000, 7000}));
  EXPECT_EQ(ParseSoftirqRow(text, "NET_TX").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ParseSoftirqRow("NET_RX: 1 x\n", "NET_RX").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProcPidStatTest, ReadsCpuTicksAndThreadsAfterTheCommandName) {
  // The command name holds a space and a parenthesis; fields are counted after the last ')'.
  const char* text =
      "4242 (nsmcert (x) y) S 1 4242 4242 0 -1 4194560 5000 0 0 0 173 58 0 0 20 0 9 0 1234 "
      "100000000 5000 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 1 0 0 0 0 0\n";
  auto cpu = ParseProcPidStat(text);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_EQ(cpu->user_ticks, 173);
  EXPECT_EQ(cpu->system_ticks, 58);
  EXPECT_EQ(cpu->threads, 9);
  EXPECT_EQ(ParseProcPidStat("4242 nsmgr S 1").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseProcPidStat("4242 (nsmgr) S 1 2 3").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProcPidStatTest, ReadsThisProcess) {
  auto cpu = ReadProcessCpu(getpid());
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  EXPECT_GE(cpu->threads, 1);
  EXPECT_GT(MsPerTick(), 0.0);
}

}  // namespace
}  // namespace nsmcert::bench::scenario
