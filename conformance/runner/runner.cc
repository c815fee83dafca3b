#include "conformance/runner/runner.h"

#include <sys/utsname.h>

#include <algorithm>
#include <deque>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "conformance/cases/text.h"
#include "conformance/report/output_dir.h"
#include "conformance/runner/executor.h"
#include "conformance/runner/progress.h"
#include "conformance/runner/selection.h"

namespace nsmcert::conformance {
namespace {

ManifestSummary Summary(const Manifest& manifest) {
  ManifestSummary summary;
  summary.path = manifest.source;
  summary.vendor = manifest.vendor;
  summary.product = manifest.product;
  summary.version = manifest.version;
  for (const RoleSpec& role : manifest.roles) {
    summary.roles[std::string(RoleName(role.role))] =
        std::string(ImplementationName(role.implementation));
  }
  summary.features = manifest.features;
  return summary;
}

CaseResult NotApplicable(const CaseInfo& info, std::vector<std::string> missing) {
  CaseResult result;
  result.info = info;
  result.status = CaseStatus::kNotApplicable;
  result.message = Cat("the manifest does not claim ",
                       missing.size() == 1 ? "feature " : "features ", Join(missing, ", "));
  result.missing_features = std::move(missing);
  return result;
}

}  // namespace

std::string_view IsolationName(Isolation isolation) {
  return isolation == Isolation::kProcess ? "process" : "thread";
}

std::string HostDescription() {
  utsname name{};
  if (uname(&name) != 0) return "unknown";
  return Cat(name.sysname, " ", name.release, " ", name.machine);
}

Runner::Runner(const CaseRegistry& registry, const Manifest& manifest, RunOptions options)
    : registry_(registry), manifest_(manifest), options_(std::move(options)) {}

absl::StatusOr<RunResult> Runner::Run() {
  if (options_.jobs < 1) {
    return absl::InvalidArgumentError(Cat("jobs: ", options_.jobs, " must be at least 1"));
  }
  if (options_.default_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("timeout: must be positive");
  }
  if (options_.out_dir.empty()) return absl::InvalidArgumentError("no output directory");
  std::error_code error;
  if (options_.isolation == Isolation::kProcess) {
    if (options_.executable.empty()) {
      return absl::InvalidArgumentError("process isolation needs the executable to re-run");
    }
    // Each case process reads the manifest again from its file.
    if (!std::filesystem::is_regular_file(manifest_.source, error)) {
      return absl::InvalidArgumentError(Cat("process isolation needs the manifest as a file; \"",
                                            manifest_.source, "\" is not one"));
    }
  }
  absl::StatusOr<CaseFilter> filter = CaseFilter::Parse(options_.filter);
  if (!filter.ok()) return filter.status();
  const std::vector<const CaseEntry*> selected =
      SelectCases(registry_.Entries(), options_.profile, *filter);
  if (selected.empty()) {
    return absl::FailedPreconditionError(
        Cat("no case selected (profile ", ProfileName(options_.profile),
            options_.filter.empty() ? std::string() : ", filter \"" + options_.filter + "\"", ", ",
            registry_.Entries().size(), " case(s) in the catalogue): nothing to certify"));
  }

  const std::filesystem::path out_dir = std::filesystem::absolute(options_.out_dir, error);
  if (absl::Status s = PrepareOutputDir(out_dir); !s.ok()) return s;
  if (!manifest_.source.empty() && std::filesystem::is_regular_file(manifest_.source, error)) {
    std::filesystem::copy_file(manifest_.source, out_dir / std::string(kManifestCopyFileName),
                               std::filesystem::copy_options::overwrite_existing, error);
    if (error) {
      return absl::InternalError(Cat("cannot copy the manifest ", manifest_.source, " to ",
                                     out_dir.string(), ": ", error.message()));
    }
  }

  const Clock& clock = *options_.clock;
  RunResult run;
  run.tool_version = options_.tool_version;
  run.manifest = Summary(manifest_);
  run.profile = options_.profile;
  run.filter = filter->text();
  run.jobs = options_.jobs;
  run.isolation = std::string(IsolationName(options_.isolation));
  run.default_timeout = options_.default_timeout;
  run.host = HostDescription();
  run.started = clock.Now();

  // Not applicable first: they cost nothing and are reported, never silently dropped.
  std::vector<CaseResult> results;
  std::deque<const CaseEntry*> queue;
  for (const CaseEntry* entry : selected) {
    std::vector<std::string> missing = manifest_.MissingFeatures(entry->info.features);
    if (missing.empty()) {
      queue.push_back(entry);
    } else {
      CaseResult result = NotApplicable(entry->info, std::move(missing));
      result.timeout = entry->info.timeout > absl::ZeroDuration() ? entry->info.timeout
                                                                  : options_.default_timeout;
      results.push_back(std::move(result));
    }
  }

  ProgressPrinter progress(options_.console);
  progress.RunStarted(run, static_cast<int>(selected.size()), static_cast<int>(results.size()),
                      out_dir);
  const int total = static_cast<int>(selected.size());
  int done = 0;
  for (const CaseResult& result : results) progress.CaseFinished(result, ++done, total);

  std::unique_ptr<CaseExecutor> executor;
  const std::filesystem::path manifest_path = std::filesystem::absolute(manifest_.source, error);
  if (options_.isolation == Isolation::kProcess) {
    executor = std::make_unique<ProcessExecutor>(options_.executable, manifest_path, clock,
                                                 options_.grace, options_.role_settings);
  } else {
    executor =
        std::make_unique<ThreadExecutor>(manifest_, clock, options_.grace, options_.role_settings);
  }

  absl::Mutex mu;
  const auto worker = [&] {
    while (true) {
      const CaseEntry* entry = nullptr;
      {
        absl::MutexLock lock(&mu);
        if (queue.empty()) return;
        entry = queue.front();
        queue.pop_front();
      }
      CaseRun case_run;
      case_run.entry = entry;
      case_run.relative_dir = Cat(kCasesDirectoryName, "/", entry->info.id);
      case_run.case_dir = out_dir / case_run.relative_dir;
      case_run.timeout = entry->info.timeout > absl::ZeroDuration() ? entry->info.timeout
                                                                    : options_.default_timeout;
      CaseResult result;
      std::error_code dir_error;
      std::filesystem::create_directories(case_run.case_dir, dir_error);
      if (dir_error) {
        result.info = entry->info;
        result.status = CaseStatus::kError;
        result.phase = "arrange";
        result.timeout = case_run.timeout;
        result.message =
            Cat("cannot create ", case_run.case_dir.string(), ": ", dir_error.message());
      } else {
        progress.CaseStarted(entry->info);
        result = executor->Execute(case_run);
      }
      absl::MutexLock lock(&mu);
      progress.CaseFinished(result, ++done, total);
      results.push_back(std::move(result));
    }
  };
  const int workers = std::min<int>(options_.jobs, static_cast<int>(queue.size()));
  std::vector<std::thread> threads;
  for (int i = 0; i < workers; ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();

  std::sort(results.begin(), results.end(),
            [](const CaseResult& a, const CaseResult& b) { return a.info.id < b.info.id; });
  run.cases = std::move(results);
  run.finished = clock.Now();

  if (absl::Status s = WriteReports(out_dir, run); !s.ok()) return s;
  if (options_.write_bundle) {
    if (absl::Status s = WriteBundle(out_dir); !s.ok()) return s;
  }
  progress.RunFinished(run, out_dir, options_.write_bundle);
  return run;
}

}  // namespace nsmcert::conformance
