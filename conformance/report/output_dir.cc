#include "conformance/report/output_dir.h"

#include <fstream>
#include <sstream>
#include <system_error>

#include "conformance/cases/text.h"
#include "conformance/report/human_report.h"
#include "conformance/report/junit_report.h"
#include "conformance/report/results_schema.h"
#include "conformance/report/tar_gz.h"

namespace nsmcert::conformance {
namespace {

std::filesystem::path In(const std::filesystem::path& dir, std::string_view name) {
  return dir / std::string(name);
}

}  // namespace

absl::Status PrepareOutputDir(const std::filesystem::path& dir) {
  std::error_code error;
  if (std::filesystem::exists(dir, error)) {
    if (!std::filesystem::is_directory(dir, error)) {
      return absl::FailedPreconditionError(Cat(dir.string(), ": exists and is not a directory"));
    }
    const bool empty = std::filesystem::is_empty(dir, error);
    if (!empty) {
      if (!std::filesystem::exists(In(dir, kOutputMarkerFileName), error)) {
        return absl::FailedPreconditionError(
            Cat(dir.string(),
                ": not empty and not the output of an earlier nsmcert run; choose another --out "
                "or empty it"));
      }
      for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
        std::filesystem::remove_all(entry.path(), error);
        if (error) {
          return absl::InternalError(
              Cat(entry.path().string(), ": cannot remove old output: ", error.message()));
        }
      }
    }
  }
  std::filesystem::create_directories(In(dir, kCasesDirectoryName), error);
  if (error) {
    return absl::InternalError(Cat(dir.string(), ": cannot create: ", error.message()));
  }
  return WriteFile(In(dir, kOutputMarkerFileName), "");
}

absl::Status WriteFile(const std::filesystem::path& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
  out.close();
  if (!out) return absl::InternalError(Cat(path.string(), ": cannot write"));
  return absl::OkStatus();
}

absl::Status WriteReports(const std::filesystem::path& dir, const RunResult& result) {
  // Replace malformed UTF-8 (an implementation's error text, say) instead of throwing.
  const std::string json =
      ToJson(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (absl::Status s = WriteFile(In(dir, kResultsFileName), json); !s.ok()) return s;
  if (absl::Status s = WriteFile(In(dir, kJunitFileName), RenderJunit(result)); !s.ok()) return s;
  if (absl::Status s = WriteFile(In(dir, kMarkdownReportFileName), RenderMarkdown(result));
      !s.ok()) {
    return s;
  }
  return WriteFile(In(dir, kHtmlReportFileName), RenderHtml(result));
}

absl::Status WriteBundle(const std::filesystem::path& dir) {
  return WriteTarGz(dir, In(dir, kBundleFileName), kBundleTopDirectory,
                    {std::string(kOutputMarkerFileName)});
}

absl::StatusOr<RunResult> RerenderReports(const std::filesystem::path& dir) {
  const std::filesystem::path path = In(dir, kResultsFileName);
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat(path.string(), ": cannot read"));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json document =
      nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded()) {
    return absl::InvalidArgumentError(Cat(path.string(), ": not valid JSON"));
  }
  const std::vector<std::string> violations = ValidateResultsJson(document);
  if (!violations.empty()) {
    std::string message = Cat(path.string(), ": does not match the results schema:");
    for (const std::string& violation : violations) Append(message, "\n  ", violation);
    return absl::InvalidArgumentError(message);
  }
  absl::StatusOr<RunResult> result = RunResultFromJson(document);
  if (!result.ok()) {
    return absl::InvalidArgumentError(
        Cat(path.string(), ": ", std::string(result.status().message())));
  }
  if (absl::Status s = WriteFile(In(dir, kMarkdownReportFileName), RenderMarkdown(*result));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteFile(In(dir, kHtmlReportFileName), RenderHtml(*result)); !s.ok()) {
    return s;
  }
  return result;
}

}  // namespace nsmcert::conformance
