#include "conformance/report/human_report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "conformance/cases/text.h"
#include "conformance/report/junit_report.h"

namespace nsmcert::conformance {
namespace {

std::size_t Index(CaseStatus status) { return static_cast<std::size_t>(status); }

int Rank(const CaseResult& c) {
  const Level level = c.info.level;
  switch (c.status) {
    case CaseStatus::kFail:
      return level == Level::kMust ? 0 : level == Level::kShould ? 3 : 4;
    case CaseStatus::kError:
      return 1;
    case CaseStatus::kSkip:
      return level == Level::kMust ? 2 : 5;
    case CaseStatus::kPass:
      return 6;
    case CaseStatus::kNotApplicable:
      return 7;
  }
  return 8;
}

std::string Seconds(absl::Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2fs", DurationSeconds(d));
  return buffer;
}

std::string StatusLabel(CaseStatus status) {
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

struct LevelSummary {
  Level level;
  int cases = 0;
  std::array<int, std::size(kAllStatuses)> counts{};
};

std::vector<LevelSummary> ByLevel(const RunResult& result) {
  std::vector<LevelSummary> out;
  for (Level level : {Level::kMust, Level::kShould, Level::kMay}) {
    LevelSummary summary{level};
    for (const CaseResult& c : result.cases) {
      if (c.info.level != level) continue;
      ++summary.cases;
      ++summary.counts[Index(c.status)];
    }
    if (summary.cases > 0) out.push_back(summary);
  }
  return out;
}

// Markdown table cell text: no line breaks, table and emphasis characters escaped.
std::string MdCell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n' || c == '\r') {
      out += ' ';
    } else if (c == '|' || c == '*' || c == '_' || c == '`' || c == '[' || c == ']' || c == '<' ||
               c == '>' || c == '\\') {
      out += '\\';
      out += c;
    } else {
      out += c;
    }
  }
  return out;
}

std::string MdEvidence(const CaseResult& c) {
  std::vector<std::string> links;
  for (const Evidence& e : c.evidence) {
    const std::string name = e.path.substr(e.path.rfind('/') + 1);
    links.push_back(Cat("[", MdCell(name), "](", e.path, ")"));
  }
  return Join(links, " ");
}

std::string RolesText(const RunResult& result) {
  std::vector<std::string> roles;
  for (const auto& [role, implementation] : result.manifest.roles) {
    roles.push_back(Cat(role, ": ", implementation));
  }
  return Join(roles, ", ");
}

}  // namespace

std::vector<const CaseResult*> ReportOrder(const RunResult& result) {
  std::vector<const CaseResult*> order;
  for (const CaseResult& c : result.cases) order.push_back(&c);
  std::stable_sort(order.begin(), order.end(), [](const CaseResult* a, const CaseResult* b) {
    const int ra = Rank(*a);
    const int rb = Rank(*b);
    return ra != rb ? ra < rb : a->info.id < b->info.id;
  });
  return order;
}

std::string RenderMarkdown(const RunResult& result) {
  const RunSummary summary = Summarize(result);
  std::string md;
  Append(md, "# nsmcert conformance report: ", MdCell(result.manifest.vendor), " ",
         MdCell(result.manifest.product), " ", MdCell(result.manifest.version), "\n\n");
  std::string verdict = summary.verdict;
  std::transform(verdict.begin(), verdict.end(), verdict.begin(), ::toupper);
  Append(md, "**Verdict: ", verdict, "** (exit code ", summary.exit_code,
         "): ", MdCell(summary.explanation), ".\n\n");

  Append(md, "| | |\n|---|---|\n");
  Append(md, "| Manifest | ", MdCell(result.manifest.path), " |\n");
  Append(md, "| Roles | ", MdCell(RolesText(result)), " |\n");
  Append(md, "| Claimed features | ",
         result.manifest.features.empty() ? std::string("(none)")
                                          : MdCell(Join(result.manifest.features, ", ")),
         " |\n");
  Append(md, "| Profile | ", ProfileName(result.profile), " |\n");
  if (!result.filter.empty()) Append(md, "| Filter | ", MdCell(result.filter), " |\n");
  Append(md, "| Jobs / isolation | ", result.jobs, " / ", result.isolation, " |\n");
  Append(md, "| Started | ", FormatTimestamp(result.started), " |\n");
  Append(md, "| Wall time | ", Seconds(result.finished - result.started), " |\n");
  Append(md, "| nsmcert | ", MdCell(result.tool_version), " |\n");
  Append(md, "| Host | ", MdCell(result.host), " |\n\n");

  Append(md, "## Summary by area\n\n");
  Append(md, "| Area | Cases | Pass | Fail | Skip | N/A | Error | Case time | Wall time |\n");
  Append(md, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const AreaSummary& area : summary.areas) {
    Append(md, "| ", AreaName(area.area), " | ", area.cases);
    for (CaseStatus status : kAllStatuses) Append(md, " | ", area.counts[Index(status)]);
    Append(md, " | ", Seconds(area.case_time), " | ", Seconds(area.wall_time), " |\n");
  }
  Append(md, "| **total** | ", summary.total);
  for (CaseStatus status : kAllStatuses) Append(md, " | ", summary.count(status));
  Append(md, " | | ", Seconds(result.finished - result.started), " |\n\n");

  Append(md, "## Summary by level\n\n");
  Append(md, "| Level | Cases | Pass | Fail | Skip | N/A | Error |\n");
  Append(md, "|---|---:|---:|---:|---:|---:|---:|\n");
  for (const LevelSummary& level : ByLevel(result)) {
    Append(md, "| ", LevelName(level.level), " | ", level.cases);
    for (CaseStatus status : kAllStatuses) Append(md, " | ", level.counts[Index(status)]);
    Append(md, " |\n");
  }
  Append(md, "\n## Cases\n\n");
  if (result.cases.empty()) {
    Append(md, "No case was selected.\n");
    return md;
  }
  Append(md, "| Status | Id | Level | Area | Title | Time | Message | Evidence |\n");
  Append(md, "|---|---|---|---|---|---:|---|---|\n");
  for (const CaseResult* c : ReportOrder(result)) {
    Append(md, "| ", StatusLabel(c->status), " | ", c->info.id, " | ", LevelName(c->info.level),
           " | ", AreaName(c->info.area), " | ", MdCell(c->info.title), " | ", Seconds(c->duration),
           " | ", MdCell(c->message), " | ", MdEvidence(*c), " |\n");
  }
  bool any_details = false;
  for (const CaseResult* c : ReportOrder(result)) {
    if (c->status == CaseStatus::kPass || c->status == CaseStatus::kNotApplicable) continue;
    if (!any_details) Append(md, "\n## Details\n");
    any_details = true;
    Append(md, "\n### ", StatusLabel(c->status), " ", c->info.id, " (", LevelName(c->info.level),
           "): ", MdCell(c->info.title), "\n\n");
    Append(md, "Spec: ", MdCell(c->info.spec));
    if (!c->phase.empty()) Append(md, ". Ended in phase ", c->phase);
    Append(md, ".\n\n");
    std::vector<std::string> lines = c->details;
    if (lines.empty()) lines.push_back(c->message);
    for (const std::string& line : lines) Append(md, "- ", MdCell(line), "\n");
    if (!c->evidence.empty()) Append(md, "\nEvidence: ", MdEvidence(*c), "\n");
  }
  return md;
}

std::string RenderHtml(const RunResult& result) {
  const RunSummary summary = Summarize(result);
  const auto esc = [](std::string_view text) { return XmlEscape(text); };
  std::string html;
  Append(html,
         "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>nsmcert: ",
         esc(result.manifest.product), " ", esc(result.manifest.version), "</title>\n",
         "<style>\n"
         "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\n"
         "table{border-collapse:collapse;margin:1em 0}\n"
         "td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\n"
         "th{background:#f4f4f4}\n"
         "td.n{text-align:right}\n"
         ".pass{color:#176f2c}.fail{color:#b00020;font-weight:bold}.error{color:#8a4b00;"
         "font-weight:bold}.skip,.n-a{color:#666}\n"
         ".verdict{font-size:1.3em;padding:.5em;border-radius:4px;display:inline-block}\n"
         ".verdict.pass{background:#e3f5e8}.verdict.fail{background:#fde7ea}"
         ".verdict.error{background:#fff1dc}\n"
         "pre{white-space:pre-wrap;margin:0}\n"
         "</style>\n</head>\n<body>\n");
  Append(html, "<h1>nsmcert conformance report: ", esc(result.manifest.vendor), " ",
         esc(result.manifest.product), " ", esc(result.manifest.version), "</h1>\n");
  Append(html, "<p class=\"verdict ", summary.verdict, "\">Verdict: <b>", summary.verdict,
         "</b> (exit code ", summary.exit_code, "): ", esc(summary.explanation), "</p>\n");
  Append(html, "<table>\n");
  const auto row = [&](std::string_view name, std::string_view value) {
    Append(html, "<tr><th>", name, "</th><td>", esc(value), "</td></tr>\n");
  };
  row("Manifest", result.manifest.path);
  row("Roles", RolesText(result));
  row("Claimed features",
      result.manifest.features.empty() ? "(none)" : Join(result.manifest.features, ", "));
  row("Profile", ProfileName(result.profile));
  if (!result.filter.empty()) row("Filter", result.filter);
  row("Jobs / isolation", Cat(result.jobs, " / ", result.isolation));
  row("Started", FormatTimestamp(result.started));
  row("Wall time", Seconds(result.finished - result.started));
  row("nsmcert", result.tool_version);
  row("Host", result.host);
  Append(html, "</table>\n");

  Append(html, "<h2>Summary by area</h2>\n<table>\n<tr><th>Area</th><th>Cases</th>");
  for (CaseStatus status : kAllStatuses) Append(html, "<th>", StatusLabel(status), "</th>");
  Append(html, "<th>Case time</th><th>Wall time</th></tr>\n");
  for (const AreaSummary& area : summary.areas) {
    Append(html, "<tr><td>", AreaName(area.area), "</td><td class=\"n\">", area.cases, "</td>");
    for (CaseStatus status : kAllStatuses) {
      Append(html, "<td class=\"n\">", area.counts[Index(status)], "</td>");
    }
    Append(html, "<td class=\"n\">", Seconds(area.case_time), "</td><td class=\"n\">",
           Seconds(area.wall_time), "</td></tr>\n");
  }
  Append(html, "<tr><th>total</th><th class=\"n\">", summary.total, "</th>");
  for (CaseStatus status : kAllStatuses) {
    Append(html, "<th class=\"n\">", summary.count(status), "</th>");
  }
  Append(html, "<th></th><th class=\"n\">", Seconds(result.finished - result.started),
         "</th></tr>\n</table>\n");

  Append(html, "<h2>Summary by level</h2>\n<table>\n<tr><th>Level</th><th>Cases</th>");
  for (CaseStatus status : kAllStatuses) Append(html, "<th>", StatusLabel(status), "</th>");
  Append(html, "</tr>\n");
  for (const LevelSummary& level : ByLevel(result)) {
    Append(html, "<tr><td>", LevelName(level.level), "</td><td class=\"n\">", level.cases, "</td>");
    for (CaseStatus status : kAllStatuses) {
      Append(html, "<td class=\"n\">", level.counts[Index(status)], "</td>");
    }
    Append(html, "</tr>\n");
  }
  Append(html, "</table>\n<h2>Cases</h2>\n");
  if (result.cases.empty()) {
    Append(html, "<p>No case was selected.</p>\n</body>\n</html>\n");
    return html;
  }
  Append(html,
         "<table>\n<tr><th>Status</th><th>Id</th><th>Level</th><th>Area</th><th>Title</th>"
         "<th>Spec</th><th>Time</th><th>Message</th><th>Evidence</th></tr>\n");
  for (const CaseResult* c : ReportOrder(result)) {
    const std::string status(CaseStatusName(c->status));
    Append(html, "<tr id=\"", esc(c->info.id), "\"><td class=\"", status, "\">",
           StatusLabel(c->status), "</td><td>", esc(c->info.id), "</td><td>",
           LevelName(c->info.level), "</td><td>", AreaName(c->info.area), "</td><td>",
           esc(c->info.title), "</td><td>", esc(c->info.spec), "</td><td class=\"n\">",
           Seconds(c->duration), "</td><td><pre>");
    std::vector<std::string> lines = c->details;
    if (lines.empty() && !c->message.empty()) lines.push_back(c->message);
    Append(html, esc(Join(lines, "\n")));
    if (!c->phase.empty() && c->status != CaseStatus::kPass) {
      Append(html, "\n(ended in phase ", c->phase, ")");
    }
    Append(html, "</pre></td><td>");
    for (const Evidence& e : c->evidence) {
      const std::string name = e.path.substr(e.path.rfind('/') + 1);
      Append(html, "<a href=\"", esc(e.path), "\" title=\"", esc(e.description), "\">", esc(name),
             "</a><br>");
    }
    Append(html, "</td></tr>\n");
  }
  Append(html, "</table>\n</body>\n</html>\n");
  return html;
}

}  // namespace nsmcert::conformance
