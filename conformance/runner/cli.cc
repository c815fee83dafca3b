#include "conformance/runner/cli.h"

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "conformance/cases/features.h"
#include "conformance/cases/text.h"
#include "conformance/report/output_dir.h"
#include "conformance/runner/executor.h"
#include "conformance/runner/manifest.h"
#include "conformance/runner/runner.h"
#include "conformance/runner/selection.h"

#ifndef NSMCERT_VERSION
#define NSMCERT_VERSION "0.0.0-dev"
#endif

namespace nsmcert::conformance {
namespace {

constexpr char kUsage[] =
    R"(nsmcert - conformance suite for Network Service Mesh implementations

Usage:
  nsmcert run --manifest FILE [options]   run the suite against the implementation in FILE
  nsmcert list [--json] [--profile P] [--filter EXPR]
                                          list the cases and their metadata
  nsmcert report DIR                      re-render report.md and report.html from DIR/results.json
  nsmcert --help | --version

Options of run:
  --manifest FILE          the implementation under test (see fixtures/manifests/)
  --profile core|full      core: the quick set (default); full: every case
  --filter EXPR            comma-separated terms: id globs (REG-*), area:NAME, level:MUST,
                           feature:NAME, !TERM to exclude; same kind OR, kinds AND
  --out DIR                output directory (default nsmcert-results); an earlier run's
                           output there is replaced
  --jobs N                 cases run at the same time (default 1)
  --timeout SECONDS        timeout of cases that do not set their own (default 120)
  --isolation process|thread
                           run each case in a child process (default) or on a thread
  --no-bundle              do not write bundle.tar.gz
  --bin-dir DIR            where the reference daemons nsmcert-<role> are: DIR itself or a
                           build tree (DIR/reference/cmd/<role>/); default: next to nsmcert,
                           then the build tree nsmcert was built in

Exit codes: 0 every applicable MUST case passed; 1 the implementation failed a MUST case;
2 the harness failed (bad usage or manifest, a case that broke or could not be judged).
)";

struct ParsedArgs {
  std::map<std::string, std::string> values;
  std::set<std::string> flags;
  std::vector<std::string> positional;
};

// Parses args[first..] against the options that take a value and the flags of a command. Accepts
// "--name value" and "--name=value".
absl::StatusOr<ParsedArgs> ParseArgs(const std::vector<std::string>& args, std::size_t first,
                                     const std::set<std::string>& value_options,
                                     const std::set<std::string>& flag_options) {
  ParsedArgs parsed;
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!arg.starts_with("--")) {
      parsed.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (flag_options.count(name) != 0) {
      if (value.has_value()) return absl::InvalidArgumentError(Cat("--", name, " takes no value"));
      parsed.flags.insert(name);
    } else if (value_options.count(name) != 0) {
      if (!value.has_value()) {
        if (i + 1 >= args.size())
          return absl::InvalidArgumentError(Cat("--", name, " needs a value"));
        value = args[++i];
      }
      if (parsed.values.count(name) != 0) {
        return absl::InvalidArgumentError(Cat("--", name, " given twice"));
      }
      parsed.values[name] = *value;
    } else {
      return absl::InvalidArgumentError(Cat("unknown option --", name));
    }
  }
  return parsed;
}

absl::StatusOr<int> ParseInt(const std::string& text, std::string_view option, int min, int max) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return absl::InvalidArgumentError(
        Cat("--", option, " \"", text, "\" must be a whole number from ", min, " to ", max));
  }
  return value;
}

absl::StatusOr<absl::Duration> ParseSeconds(const std::string& text, std::string_view option) {
  double seconds = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(seconds) ||
      seconds <= 0 || seconds > 86400) {
    return absl::InvalidArgumentError(
        Cat("--", option, " \"", text, "\" must be a number of seconds above 0"));
  }
  return absl::Milliseconds(std::llround(seconds * 1000));
}

// --bin-dir: an existing directory, made absolute so case processes see the same one.
absl::StatusOr<std::filesystem::path> BinDirOption(const std::string& text) {
  std::error_code error;
  if (text.empty() || !std::filesystem::is_directory(text, error)) {
    return absl::InvalidArgumentError(Cat("--bin-dir \"", text, "\" is not a directory"));
  }
  return std::filesystem::absolute(text, error).lexically_normal();
}

bool ReportRegistryErrors(const CaseRegistry& registry, std::ostream& err) {
  const std::vector<absl::Status> errors = registry.errors();
  for (const absl::Status& error : errors) {
    err << "nsmcert: catalogue error: " << error.message() << "\n";
  }
  return !errors.empty();
}

int UsageError(std::ostream& err, std::string_view message) {
  err << "nsmcert: " << message << "\n(see nsmcert --help)\n";
  return kExitHarnessFailed;
}

nlohmann::json CaseInfoJson(const CaseInfo& info) {
  return {{"id", info.id},
          {"title", info.title},
          {"level", LevelName(info.level)},
          {"area", AreaName(info.area)},
          {"profile", ProfileName(info.profile)},
          {"spec", info.spec},
          {"features", info.features},
          {"timeout_s", DurationSeconds(info.timeout)}};
}

int ListCommand(const std::vector<std::string>& args, const CaseRegistry& registry,
                std::ostream& out, std::ostream& err) {
  auto parsed = ParseArgs(args, 2, {"profile", "filter"}, {"json"});
  if (!parsed.ok()) return UsageError(err, std::string(parsed.status().message()));
  if (!parsed->positional.empty()) return UsageError(err, "list takes no arguments");
  if (ReportRegistryErrors(registry, err)) return kExitHarnessFailed;
  Profile profile = Profile::kFull;
  if (const auto it = parsed->values.find("profile"); it != parsed->values.end()) {
    const auto p = ParseProfile(it->second);
    if (!p) return UsageError(err, Cat("--profile \"", it->second, "\" is neither core nor full"));
    profile = *p;
  }
  auto filter = CaseFilter::Parse(parsed->values.count("filter") ? parsed->values["filter"] : "");
  if (!filter.ok()) return UsageError(err, std::string(filter.status().message()));
  const std::vector<const CaseEntry*> cases = SelectCases(registry.Entries(), profile, *filter);

  if (parsed->flags.count("json") != 0) {
    nlohmann::json list = nlohmann::json::array();
    for (const CaseEntry* entry : cases) list.push_back(CaseInfoJson(entry->info));
    nlohmann::json features = nlohmann::json::array();
    for (const FeatureInfo& feature : KnownFeatures()) {
      features.push_back({{"name", feature.name}, {"description", feature.description}});
    }
    const nlohmann::json document = {
        {"schema_version", 1},
        {"tool", {{"name", "nsmcert"}, {"version", ToolVersion()}}},
        {"cases", std::move(list)},
        {"known_features", std::move(features)},
    };
    out << document.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return kExitPass;
  }
  const auto pad = [](std::string_view text, std::size_t width) {
    std::string s(text);
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
  };
  out << pad("ID", 16) << pad("LEVEL", 8) << pad("AREA", 14) << pad("PROFILE", 9)
      << pad("FEATURES", 28) << "TITLE\n";
  for (const CaseEntry* entry : cases) {
    const CaseInfo& info = entry->info;
    out << pad(info.id, 16) << pad(LevelName(info.level), 8) << pad(AreaName(info.area), 14)
        << pad(ProfileName(info.profile), 9)
        << pad(info.features.empty() ? "-" : Join(info.features, ","), 28) << info.title << "\n";
  }
  out << cases.size() << " case(s)\n";
  return kExitPass;
}

int RunCommand(const std::vector<std::string>& args, const CaseRegistry& registry,
               const std::string& executable, std::ostream& out, std::ostream& err) {
  auto parsed = ParseArgs(
      args, 2, {"manifest", "profile", "filter", "out", "jobs", "timeout", "isolation", "bin-dir"},
      {"no-bundle"});
  if (!parsed.ok()) return UsageError(err, std::string(parsed.status().message()));
  if (!parsed->positional.empty()) {
    return UsageError(err, Cat("unexpected argument \"", parsed->positional.front(), "\""));
  }
  auto& values = parsed->values;
  if (values.count("manifest") == 0) return UsageError(err, "run needs --manifest FILE");
  RunOptions options;
  options.tool_version = std::string(ToolVersion());
  options.executable = executable;
  options.console = &out;
  options.write_bundle = parsed->flags.count("no-bundle") == 0;
  options.out_dir = values.count("out") ? values["out"] : "nsmcert-results";
  options.filter = values.count("filter") ? values["filter"] : "";
  if (values.count("bin-dir")) {
    auto bin_dir = BinDirOption(values["bin-dir"]);
    if (!bin_dir.ok()) return UsageError(err, std::string(bin_dir.status().message()));
    options.role_settings.bin_dir = *bin_dir;
  }
  if (values.count("profile")) {
    const auto profile = ParseProfile(values["profile"]);
    if (!profile) {
      return UsageError(err, Cat("--profile \"", values["profile"], "\" is neither core nor full"));
    }
    options.profile = *profile;
  }
  if (values.count("jobs")) {
    auto jobs = ParseInt(values["jobs"], "jobs", 1, 256);
    if (!jobs.ok()) return UsageError(err, std::string(jobs.status().message()));
    options.jobs = *jobs;
  }
  if (values.count("timeout")) {
    auto timeout = ParseSeconds(values["timeout"], "timeout");
    if (!timeout.ok()) return UsageError(err, std::string(timeout.status().message()));
    options.default_timeout = *timeout;
  }
  if (values.count("isolation")) {
    if (values["isolation"] == "process") {
      options.isolation = Isolation::kProcess;
    } else if (values["isolation"] == "thread") {
      options.isolation = Isolation::kThread;
    } else {
      return UsageError(
          err, Cat("--isolation \"", values["isolation"], "\" is neither process nor thread"));
    }
  }
  if (ReportRegistryErrors(registry, err)) return kExitHarnessFailed;
  absl::StatusOr<Manifest> manifest = LoadManifestFile(values["manifest"]);
  if (!manifest.ok()) {
    err << "nsmcert: bad manifest: " << manifest.status().message() << "\n";
    return kExitHarnessFailed;
  }
  Runner runner(registry, *manifest, std::move(options));
  absl::StatusOr<RunResult> result = runner.Run();
  if (!result.ok()) {
    err << "nsmcert: error: " << result.status().message() << "\n";
    return kExitHarnessFailed;
  }
  return ExitCodeFor(*result);
}

int ReportCommand(const std::vector<std::string>& args, std::ostream& out, std::ostream& err) {
  auto parsed = ParseArgs(args, 2, {}, {});
  if (!parsed.ok()) return UsageError(err, std::string(parsed.status().message()));
  if (parsed->positional.size() != 1) return UsageError(err, "report needs one DIR");
  const std::filesystem::path dir = parsed->positional.front();
  absl::StatusOr<RunResult> result = RerenderReports(dir);
  if (!result.ok()) {
    err << "nsmcert: " << result.status().message() << "\n";
    return kExitHarnessFailed;
  }
  const RunSummary summary = Summarize(*result);
  out << "wrote " << (dir / std::string(kMarkdownReportFileName)).string() << " and "
      << (dir / std::string(kHtmlReportFileName)).string() << "\n"
      << result->manifest.product << " " << result->manifest.version << ": " << summary.verdict
      << " (" << summary.explanation << ")\n";
  return kExitPass;
}

// The child side of process isolation; not meant for people.
int RunCaseCommand(const std::vector<std::string>& args, const CaseRegistry& registry,
                   std::ostream& err) {
  auto parsed = ParseArgs(
      args, 2, {"manifest", "case", "case-dir", "relative-dir", "timeout-ms", "bin-dir"}, {});
  if (!parsed.ok()) return UsageError(err, std::string(parsed.status().message()));
  auto& values = parsed->values;
  for (const char* required : {"manifest", "case", "case-dir", "relative-dir", "timeout-ms"}) {
    if (values.count(required) == 0) return UsageError(err, Cat("run-case needs --", required));
  }
  auto timeout_ms = ParseInt(values["timeout-ms"], "timeout-ms", 1, 1 << 30);
  if (!timeout_ms.ok()) return UsageError(err, std::string(timeout_ms.status().message()));
  RoleSettings role_settings;
  if (values.count("bin-dir")) role_settings.bin_dir = values["bin-dir"];
  return RunCaseInChild(registry, values["manifest"], values["case"], values["case-dir"],
                        values["relative-dir"], absl::Milliseconds(*timeout_ms),
                        std::move(role_settings));
}

}  // namespace

std::string_view ToolVersion() { return NSMCERT_VERSION; }

int RunCli(const std::vector<std::string>& args, const CaseRegistry& registry,
           const std::string& executable, std::ostream& out, std::ostream& err) {
  if (args.size() < 2) {
    err << kUsage;
    return kExitHarnessFailed;
  }
  const std::string& command = args[1];
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return kExitPass;
  }
  if (command == "--version" || command == "version") {
    out << "nsmcert " << ToolVersion() << "\n";
    return kExitPass;
  }
  if (command == "run") return RunCommand(args, registry, executable, out, err);
  if (command == "list") return ListCommand(args, registry, out, err);
  if (command == "report") return ReportCommand(args, out, err);
  if (command == "run-case") return RunCaseCommand(args, registry, err);
  return UsageError(err, Cat("unknown command \"", command, "\""));
}

}  // namespace nsmcert::conformance
