// The files of a run's output directory, and writing them:
//
//   <out>/results.json    the results (schema: results.schema.json)
//   <out>/junit.xml       for CI systems
//   <out>/report.md       human report (Markdown)
//   <out>/report.html     human report (HTML, self-contained)
//   <out>/manifest.yaml   the manifest the run used, copied verbatim
//   <out>/cases/<id>/     per case: case.log, process.log, pcaps, notes
//   <out>/bundle.tar.gz   all of the above in one archive (top directory "nsmcert-results")
#ifndef NSMCERT_CONFORMANCE_REPORT_OUTPUT_DIR_H_
#define NSMCERT_CONFORMANCE_REPORT_OUTPUT_DIR_H_

#include <filesystem>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conformance/report/results.h"

namespace nsmcert::conformance {

inline constexpr std::string_view kResultsFileName = "results.json";
inline constexpr std::string_view kJunitFileName = "junit.xml";
inline constexpr std::string_view kMarkdownReportFileName = "report.md";
inline constexpr std::string_view kHtmlReportFileName = "report.html";
inline constexpr std::string_view kManifestCopyFileName = "manifest.yaml";
inline constexpr std::string_view kBundleFileName = "bundle.tar.gz";
inline constexpr std::string_view kBundleTopDirectory = "nsmcert-results";
inline constexpr std::string_view kCasesDirectoryName = "cases";
// An empty file that marks a directory as nsmcert output, so a new run may clear it.
inline constexpr std::string_view kOutputMarkerFileName = ".nsmcert-output";

// Prepares `dir` for a run: creates it, or clears it when it holds the output of an earlier run
// (it has the marker file). FAILED_PRECONDITION for a non-empty directory without the marker, so
// a typo in --out never wipes unrelated files.
absl::Status PrepareOutputDir(const std::filesystem::path& dir);

// Writes a text file (replacing it). INTERNAL names the file on error.
absl::Status WriteFile(const std::filesystem::path& path, std::string_view contents);

// Writes results.json, junit.xml, report.md and report.html into `dir`.
absl::Status WriteReports(const std::filesystem::path& dir, const RunResult& result);
// Archives `dir` into <dir>/bundle.tar.gz (everything but the marker file).
absl::Status WriteBundle(const std::filesystem::path& dir);

// Reads <dir>/results.json, validates it against the schema (INVALID_ARGUMENT listing the
// violations) and rewrites report.md and report.html from it.
absl::StatusOr<RunResult> RerenderReports(const std::filesystem::path& dir);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_OUTPUT_DIR_H_
