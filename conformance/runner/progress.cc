#include "conformance/runner/progress.h"

#include <cctype>
#include <cstdio>

#include "conformance/cases/text.h"
#include "conformance/report/output_dir.h"

namespace nsmcert::conformance {
namespace {

std::string Pad(std::string_view text, std::size_t width) {
  std::string out(text);
  if (out.size() < width) out.append(width - out.size(), ' ');
  return out;
}

std::string PadLeft(std::string_view text, std::size_t width) {
  std::string out(text);
  if (out.size() < width) out.insert(0, width - out.size(), ' ');
  return out;
}

std::string Seconds(absl::Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2fs", DurationSeconds(d));
  return buffer;
}

std::string Label(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPass:
      return "PASS";
    case CaseStatus::kFail:
      return "FAIL";
    case CaseStatus::kSkip:
      return "SKIP";
    case CaseStatus::kNotApplicable:
      return "N/A";
    case CaseStatus::kError:
      return "ERROR";
  }
  return "?";
}

}  // namespace

void ProgressPrinter::Print(const std::string& text) {
  if (out_ == nullptr) return;
  absl::MutexLock lock(&mu_);
  *out_ << text << std::flush;
}

void ProgressPrinter::RunStarted(const RunResult& run, int selected, int not_applicable,
                                 const std::filesystem::path& out_dir) {
  Print(Cat("nsmcert ", run.tool_version, ": ", run.manifest.vendor, " ", run.manifest.product, " ",
            run.manifest.version, " (", run.manifest.path, ")\n", "profile ",
            ProfileName(run.profile), run.filter.empty() ? std::string() : ", filter " + run.filter,
            ": ", selected, " case(s), ", not_applicable, " not applicable; ", run.jobs,
            " at a time, ", run.isolation, " isolation; output in ", out_dir.string(), "\n"));
}

void ProgressPrinter::CaseStarted(const CaseInfo& info) {
  Print(Cat("        start ", info.id, "  ", info.title, "\n"));
}

void ProgressPrinter::CaseFinished(const CaseResult& result, int done, int total) {
  const std::string counter =
      Cat("[", PadLeft(std::to_string(done), std::to_string(total).size()), "/", total, "]");
  std::string line =
      Cat(counter, " ", Pad(Label(result.status), 5), " ", Pad(result.info.id, 14), " ",
          Pad(LevelName(result.info.level), 6), " ", Pad(AreaName(result.info.area), 12), " ",
          PadLeft(Seconds(result.duration), 8), "  ", result.info.title, "\n");
  if (result.status != CaseStatus::kPass && !result.message.empty()) {
    Append(line, std::string(counter.size() + 1, ' '), "-> ", result.message, "\n");
  }
  Print(line);
}

void ProgressPrinter::RunFinished(const RunResult& run, const std::filesystem::path& out_dir,
                                  bool bundled) {
  const RunSummary summary = Summarize(run);
  std::string text = "\n";
  Append(text, Pad("area", 13), " cases  pass  fail  skip   n/a error   case time   wall time\n");
  const auto counts = [](const auto& c) {
    std::string out;
    for (CaseStatus status : kAllStatuses) {
      Append(out, PadLeft(std::to_string(c[static_cast<std::size_t>(status)]), 6));
    }
    return out;
  };
  for (const AreaSummary& area : summary.areas) {
    Append(text, Pad(AreaName(area.area), 13), PadLeft(std::to_string(area.cases), 6),
           counts(area.counts), PadLeft(Seconds(area.case_time), 12),
           PadLeft(Seconds(area.wall_time), 12), "\n");
  }
  Append(text, Pad("total", 13), PadLeft(std::to_string(summary.total), 6), counts(summary.counts),
         PadLeft("", 12), PadLeft(Seconds(run.finished - run.started), 12), "\n\n");
  Append(text, "total wall time ", Seconds(run.finished - run.started), "\n");
  std::string verdict = summary.verdict;
  for (char& c : verdict) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  Append(text, "verdict ", verdict, " (exit code ", summary.exit_code, "): ", summary.explanation,
         "\n");
  Append(text, "results ", (out_dir / std::string(kResultsFileName)).string(), ", report ",
         (out_dir / std::string(kHtmlReportFileName)).string());
  if (bundled) Append(text, ", bundle ", (out_dir / std::string(kBundleFileName)).string());
  text += "\n";
  Print(text);
}

}  // namespace nsmcert::conformance
