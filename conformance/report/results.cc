#include "conformance/report/results.h"

#include <algorithm>
#include <cmath>

#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

using nlohmann::json;

std::size_t Index(CaseStatus status) { return static_cast<std::size_t>(status); }

absl::Duration Seconds(double seconds) { return absl::Milliseconds(std::llround(seconds * 1000)); }

// Typed field access that reports the path of a missing or mistyped field instead of throwing.
class FieldReader {
 public:
  FieldReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {}

  absl::Status status() const { return status_; }

  const json* Get(std::string_view key, json::value_t type, bool required = true) {
    if (!status_.ok()) return nullptr;
    if (!object_.is_object()) {
      Fail(path_, "must be an object");
      return nullptr;
    }
    const auto it = object_.find(std::string(key));
    if (it == object_.end()) {
      if (required) Fail(Cat(path_, ".", key), "missing");
      return nullptr;
    }
    const bool number_ok = type == json::value_t::number_float && it->is_number();
    const bool integer_ok = type == json::value_t::number_integer && it->is_number_integer();
    if (!(it->type() == type || number_ok || integer_ok)) {
      Fail(Cat(path_, ".", key), Cat("has type ", it->type_name()));
      return nullptr;
    }
    return &*it;
  }

  std::string String(std::string_view key, bool required = true) {
    const json* value = Get(key, json::value_t::string, required);
    return value ? value->get<std::string>() : std::string();
  }
  double Number(std::string_view key, bool required = true) {
    const json* value = Get(key, json::value_t::number_float, required);
    return value ? value->get<double>() : 0.0;
  }
  std::int64_t Integer(std::string_view key, bool required = true) {
    const json* value = Get(key, json::value_t::number_integer, required);
    return value ? value->get<std::int64_t>() : 0;
  }
  std::vector<std::string> Strings(std::string_view key, bool required = true) {
    std::vector<std::string> out;
    const json* value = Get(key, json::value_t::array, required);
    if (value == nullptr) return out;
    for (std::size_t i = 0; i < value->size(); ++i) {
      if (!(*value)[i].is_string()) {
        Fail(Cat(path_, ".", key, "[", i, "]"), "must be a string");
        return {};
      }
      out.push_back((*value)[i].get<std::string>());
    }
    return out;
  }
  std::optional<absl::Time> Time(std::string_view key, bool required = true) {
    const std::string text = String(key, required);
    if (text.empty()) return std::nullopt;
    absl::Time time;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
      Fail(Cat(path_, ".", key), Cat("\"", text, "\" is not an RFC 3339 time: ", error));
      return std::nullopt;
    }
    return time;
  }
  void Fail(std::string_view path, std::string_view message) {
    if (status_.ok()) status_ = absl::InvalidArgumentError(Cat(path, ": ", message));
  }

 private:
  const json& object_;
  std::string path_;
  absl::Status status_;
};

}  // namespace

std::string_view CaseStatusName(CaseStatus status) {
  switch (status) {
    case CaseStatus::kPass:
      return "pass";
    case CaseStatus::kFail:
      return "fail";
    case CaseStatus::kSkip:
      return "skip";
    case CaseStatus::kNotApplicable:
      return "n-a";
    case CaseStatus::kError:
      return "error";
  }
  return "?";
}

std::optional<CaseStatus> ParseCaseStatus(std::string_view text) {
  for (CaseStatus status : kAllStatuses) {
    if (CaseStatusName(status) == text) return status;
  }
  return std::nullopt;
}

RunSummary Summarize(const RunResult& result) {
  RunSummary summary;
  std::map<Area, AreaSummary> areas;
  std::map<Area, std::pair<absl::Time, absl::Time>> spans;
  for (const CaseResult& c : result.cases) {
    ++summary.total;
    ++summary.counts[Index(c.status)];
    const bool must = c.info.level == Level::kMust;
    if (must && c.status == CaseStatus::kFail) summary.failed_must.push_back(c.info.id);
    if (must && c.status == CaseStatus::kSkip) summary.unjudged_must.push_back(c.info.id);
    if (c.status == CaseStatus::kError) summary.errors.push_back(c.info.id);

    AreaSummary& area = areas[c.info.area];
    area.area = c.info.area;
    ++area.cases;
    ++area.counts[Index(c.status)];
    area.case_time += c.duration;
    if (c.started.has_value()) {
      const absl::Time end = *c.started + c.duration;
      auto [it, inserted] = spans.try_emplace(c.info.area, *c.started, end);
      if (!inserted) {
        it->second.first = std::min(it->second.first, *c.started);
        it->second.second = std::max(it->second.second, end);
      }
    }
  }
  for (Area area : kAllAreas) {
    const auto it = areas.find(area);
    if (it == areas.end()) continue;
    if (const auto span = spans.find(area); span != spans.end()) {
      it->second.wall_time = span->second.second - span->second.first;
    }
    summary.areas.push_back(it->second);
  }

  if (!summary.errors.empty() || !summary.unjudged_must.empty()) {
    summary.exit_code = 2;
    summary.verdict = "error";
    std::vector<std::string> why;
    if (!summary.errors.empty()) {
      why.push_back(Cat("the harness failed in ", summary.errors.size(),
                        " case(s): ", Join(summary.errors, ", ")));
    }
    if (!summary.unjudged_must.empty()) {
      why.push_back(Cat(summary.unjudged_must.size(),
                        " MUST case(s) could not be judged: ", Join(summary.unjudged_must, ", ")));
    }
    if (!summary.failed_must.empty()) {
      why.push_back(Cat(summary.failed_must.size(),
                        " MUST case(s) failed: ", Join(summary.failed_must, ", ")));
    }
    summary.explanation = Join(why, "; ");
  } else if (!summary.failed_must.empty()) {
    summary.exit_code = 1;
    summary.verdict = "fail";
    summary.explanation = Cat("the implementation failed ", summary.failed_must.size(),
                              " MUST case(s): ", Join(summary.failed_must, ", "));
  } else {
    summary.exit_code = 0;
    summary.verdict = "pass";
    summary.explanation = "every applicable MUST case passed";
  }
  return summary;
}

int ExitCodeFor(const RunResult& result) { return Summarize(result).exit_code; }

std::string FormatTimestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

double DurationSeconds(absl::Duration duration) {
  return static_cast<double>(absl::ToInt64Milliseconds(duration)) / 1000.0;
}

nlohmann::json CaseResultToJson(const CaseResult& c) {
  json out = {
      {"id", c.info.id},
      {"title", c.info.title},
      {"level", LevelName(c.info.level)},
      {"area", AreaName(c.info.area)},
      {"profile", ProfileName(c.info.profile)},
      {"spec", c.info.spec},
      {"features", c.info.features},
      {"status", CaseStatusName(c.status)},
      {"phase", c.phase},
      {"message", c.message},
      {"details", c.details},
      {"missing_features", c.missing_features},
      {"duration_s", DurationSeconds(c.duration)},
      {"timeout_s", DurationSeconds(c.timeout)},
  };
  if (c.started.has_value()) out["started_at"] = FormatTimestamp(*c.started);
  json evidence = json::array();
  for (const Evidence& e : c.evidence) {
    evidence.push_back(
        {{"kind", EvidenceKindName(e.kind)}, {"path", e.path}, {"description", e.description}});
  }
  out["evidence"] = std::move(evidence);
  return out;
}

nlohmann::json ToJson(const RunResult& result) {
  const RunSummary summary = Summarize(result);
  json roles = json::object();
  for (const auto& [role, implementation] : result.manifest.roles) roles[role] = implementation;
  json counts = json::object();
  for (CaseStatus status : kAllStatuses) {
    counts[std::string(CaseStatusName(status))] = summary.count(status);
  }
  json areas = json::array();
  for (const AreaSummary& area : summary.areas) {
    json area_counts = json::object();
    for (CaseStatus status : kAllStatuses) {
      area_counts[std::string(CaseStatusName(status))] = area.counts[Index(status)];
    }
    areas.push_back({{"area", AreaName(area.area)},
                     {"cases", area.cases},
                     {"counts", std::move(area_counts)},
                     {"case_time_s", DurationSeconds(area.case_time)},
                     {"wall_time_s", DurationSeconds(area.wall_time)}});
  }
  json cases = json::array();
  for (const CaseResult& c : result.cases) cases.push_back(CaseResultToJson(c));
  return {
      {"schema_version", kResultsSchemaVersion},
      {"tool", {{"name", "nsmcert"}, {"version", result.tool_version}}},
      {"manifest",
       {{"path", result.manifest.path},
        {"vendor", result.manifest.vendor},
        {"product", result.manifest.product},
        {"version", result.manifest.version},
        {"roles", std::move(roles)},
        {"features", result.manifest.features}}},
      {"run",
       {{"profile", ProfileName(result.profile)},
        {"filter", result.filter},
        {"jobs", result.jobs},
        {"isolation", result.isolation},
        {"default_timeout_s", DurationSeconds(result.default_timeout)},
        {"host", result.host},
        {"started_at", FormatTimestamp(result.started)},
        {"finished_at", FormatTimestamp(result.finished)},
        {"wall_time_s", DurationSeconds(result.finished - result.started)}}},
      {"summary",
       {{"total", summary.total},
        {"counts", std::move(counts)},
        {"failed_must", summary.failed_must},
        {"unjudged_must", summary.unjudged_must},
        {"errors", summary.errors},
        {"verdict", summary.verdict},
        {"exit_code", summary.exit_code},
        {"explanation", summary.explanation}}},
      {"areas", std::move(areas)},
      {"cases", std::move(cases)},
  };
}

absl::StatusOr<CaseResult> CaseResultFromJson(const nlohmann::json& object) {
  FieldReader reader(object, "case");
  CaseResult c;
  c.info.id = reader.String("id");
  FieldReader named(object, Cat("case ", c.info.id.empty() ? std::string("?") : c.info.id));
  c.info.title = named.String("title");
  const std::string level = named.String("level");
  const std::string area = named.String("area");
  const std::string profile = named.String("profile");
  c.info.spec = named.String("spec");
  c.info.features = named.Strings("features");
  const std::string status = named.String("status");
  c.phase = named.String("phase");
  c.message = named.String("message");
  c.details = named.Strings("details");
  c.missing_features = named.Strings("missing_features");
  c.started = named.Time("started_at", /*required=*/false);
  c.duration = Seconds(named.Number("duration_s"));
  c.timeout = Seconds(named.Number("timeout_s"));
  if (const json* evidence = named.Get("evidence", json::value_t::array)) {
    for (std::size_t i = 0; i < evidence->size(); ++i) {
      FieldReader item((*evidence)[i], Cat("case ", c.info.id, ".evidence[", i, "]"));
      Evidence e;
      const std::string kind = item.String("kind");
      e.path = item.String("path");
      e.description = item.String("description");
      if (!item.status().ok()) return item.status();
      const auto parsed = ParseEvidenceKind(kind);
      if (!parsed) item.Fail(Cat("case ", c.info.id, ".evidence[", i, "].kind"), kind);
      if (!item.status().ok()) return item.status();
      e.kind = *parsed;
      c.evidence.push_back(std::move(e));
    }
  }
  if (!reader.status().ok()) return reader.status();
  if (!named.status().ok()) return named.status();
  const auto parsed_level = ParseLevel(level);
  const auto parsed_area = ParseArea(area);
  const auto parsed_profile = ParseProfile(profile);
  const auto parsed_status = ParseCaseStatus(status);
  if (!parsed_level) named.Fail(Cat("case ", c.info.id, ".level"), Cat("unknown \"", level, "\""));
  if (!parsed_area) named.Fail(Cat("case ", c.info.id, ".area"), Cat("unknown \"", area, "\""));
  if (!parsed_profile) {
    named.Fail(Cat("case ", c.info.id, ".profile"), Cat("unknown \"", profile, "\""));
  }
  if (!parsed_status) {
    named.Fail(Cat("case ", c.info.id, ".status"), Cat("unknown \"", status, "\""));
  }
  if (!named.status().ok()) return named.status();
  c.info.level = *parsed_level;
  c.info.area = *parsed_area;
  c.info.profile = *parsed_profile;
  c.status = *parsed_status;
  return c;
}

absl::StatusOr<RunResult> RunResultFromJson(const nlohmann::json& object) {
  FieldReader top(object, "results");
  const std::int64_t version = top.Integer("schema_version");
  if (!top.status().ok()) return top.status();
  if (version != kResultsSchemaVersion) {
    return absl::InvalidArgumentError(Cat("results.schema_version: ", version,
                                          " is not supported (this nsmcert reads version ",
                                          kResultsSchemaVersion, ")"));
  }
  RunResult result;
  const json* tool = top.Get("tool", json::value_t::object);
  const json* manifest = top.Get("manifest", json::value_t::object);
  const json* run = top.Get("run", json::value_t::object);
  const json* cases = top.Get("cases", json::value_t::array);
  if (!top.status().ok()) return top.status();

  FieldReader tool_reader(*tool, "results.tool");
  result.tool_version = tool_reader.String("version");
  if (!tool_reader.status().ok()) return tool_reader.status();

  FieldReader manifest_reader(*manifest, "results.manifest");
  result.manifest.path = manifest_reader.String("path");
  result.manifest.vendor = manifest_reader.String("vendor");
  result.manifest.product = manifest_reader.String("product");
  result.manifest.version = manifest_reader.String("version");
  result.manifest.features = manifest_reader.Strings("features");
  if (const json* roles = manifest_reader.Get("roles", json::value_t::object)) {
    for (const auto& [role, implementation] : roles->items()) {
      if (!implementation.is_string()) {
        manifest_reader.Fail(Cat("results.manifest.roles.", role), "must be a string");
        break;
      }
      result.manifest.roles[role] = implementation.get<std::string>();
    }
  }
  if (!manifest_reader.status().ok()) return manifest_reader.status();

  FieldReader run_reader(*run, "results.run");
  const std::string profile = run_reader.String("profile");
  result.filter = run_reader.String("filter");
  result.jobs = static_cast<int>(run_reader.Integer("jobs"));
  result.isolation = run_reader.String("isolation");
  result.default_timeout = Seconds(run_reader.Number("default_timeout_s"));
  result.host = run_reader.String("host");
  const auto started = run_reader.Time("started_at");
  const auto finished = run_reader.Time("finished_at");
  if (!run_reader.status().ok()) return run_reader.status();
  const auto parsed_profile = ParseProfile(profile);
  if (!parsed_profile) {
    return absl::InvalidArgumentError(Cat("results.run.profile: unknown \"", profile, "\""));
  }
  result.profile = *parsed_profile;
  result.started = *started;
  result.finished = *finished;

  for (const json& c : *cases) {
    auto parsed = CaseResultFromJson(c);
    if (!parsed.ok()) return parsed.status();
    result.cases.push_back(std::move(*parsed));
  }
  std::sort(result.cases.begin(), result.cases.end(),
            [](const CaseResult& a, const CaseResult& b) { return a.info.id < b.info.id; });
  return result;
}

}  // namespace nsmcert::conformance
