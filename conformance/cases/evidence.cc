#include "conformance/cases/evidence.h"

#include <algorithm>
#include <fstream>
#include <system_error>

#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

constexpr std::size_t kMaxFileNameLength = 100;

bool IsReserved(std::string_view name) {
  return name == kCaseLogFileName || name == kProcessLogFileName || name == kCaseResultFileName ||
         name == kCasePhaseFileName;
}

absl::Status CheckFileName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFileNameLength || name[0] == '.' ||
      !std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
      })) {
    return absl::InvalidArgumentError(
        Cat("evidence file name \"", name,
            "\" must be 1..100 bytes of [A-Za-z0-9._-] not starting with '.'"));
  }
  if (IsReserved(name)) {
    return absl::InvalidArgumentError(
        Cat("evidence file name \"", name, "\" is reserved for the runner"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string_view EvidenceKindName(EvidenceKind kind) {
  switch (kind) {
    case EvidenceKind::kPcap:
      return "pcap";
    case EvidenceKind::kLog:
      return "log";
    case EvidenceKind::kNote:
      return "note";
    case EvidenceKind::kData:
      return "data";
  }
  return "?";
}

std::optional<EvidenceKind> ParseEvidenceKind(std::string_view text) {
  for (EvidenceKind kind :
       {EvidenceKind::kPcap, EvidenceKind::kLog, EvidenceKind::kNote, EvidenceKind::kData}) {
    if (EvidenceKindName(kind) == text) return kind;
  }
  return std::nullopt;
}

EvidenceRecorder::EvidenceRecorder(std::filesystem::path case_dir, std::string relative_dir)
    : dir_(std::move(case_dir)), relative_dir_(std::move(relative_dir)) {}

absl::StatusOr<std::filesystem::path> EvidenceRecorder::NewFile(EvidenceKind kind,
                                                                std::string_view file_name,
                                                                std::string_view description) {
  if (absl::Status status = CheckFileName(file_name); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  const std::string relative = Cat(relative_dir_, "/", file_name);
  for (const Entry& entry : entries_) {
    if (entry.evidence.path == relative) {
      return absl::InvalidArgumentError(
          Cat("evidence file name \"", file_name, "\" is already taken in ", relative_dir_));
    }
  }
  std::filesystem::path absolute = dir_ / std::string(file_name);
  entries_.push_back(Entry{Evidence{kind, relative, std::string(description)}, absolute});
  return absolute;
}

absl::Status EvidenceRecorder::WriteText(EvidenceKind kind, std::string_view file_name,
                                         std::string_view text, std::string_view description) {
  auto path = NewFile(kind, file_name, description);
  if (!path.ok()) return path.status();
  std::ofstream out(*path, std::ios::binary | std::ios::trunc);
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  out.close();
  if (!out) return absl::InternalError(Cat(path->string(), ": cannot write evidence"));
  return absl::OkStatus();
}

absl::Status EvidenceRecorder::CopyFile(EvidenceKind kind, const std::filesystem::path& source,
                                        std::string_view file_name, std::string_view description) {
  auto path = NewFile(kind, file_name, description);
  if (!path.ok()) return path.status();
  std::error_code error;
  std::filesystem::copy_file(source, *path, std::filesystem::copy_options::overwrite_existing,
                             error);
  if (error) {
    return absl::InternalError(
        Cat("cannot copy ", source.string(), " to ", path->string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

void EvidenceRecorder::AddRunnerFile(EvidenceKind kind, std::string_view file_name,
                                     std::string_view description) {
  absl::MutexLock lock(&mu_);
  entries_.push_back(
      Entry{Evidence{kind, Cat(relative_dir_, "/", file_name), std::string(description)},
            dir_ / std::string(file_name)});
}

std::vector<Evidence> EvidenceRecorder::Entries() const {
  absl::MutexLock lock(&mu_);
  std::vector<Evidence> out;
  for (const Entry& entry : entries_) {
    std::error_code error;
    // A reserved name that was never written (or a NewFile the case did not fill) is not
    // evidence; listing it would give reports dead links.
    if (std::filesystem::is_regular_file(entry.absolute, error)) out.push_back(entry.evidence);
  }
  return out;
}

}  // namespace nsmcert::conformance
