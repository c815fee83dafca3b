// Evidence a case leaves behind: packet captures, logs, notes and data files, filed under the
// case's own directory of the run's output (<out>/cases/<id>/) and listed in results.json with
// paths relative to the output directory, so reports can link them and the bundle carries them.
#ifndef NSMCERT_CONFORMANCE_CASES_EVIDENCE_H_
#define NSMCERT_CONFORMANCE_CASES_EVIDENCE_H_

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace nsmcert::conformance {

enum class EvidenceKind { kPcap, kLog, kNote, kData };
std::string_view EvidenceKindName(EvidenceKind kind);  // "pcap", "log", "note", "data"
std::optional<EvidenceKind> ParseEvidenceKind(std::string_view text);

struct Evidence {
  EvidenceKind kind = EvidenceKind::kNote;
  std::string path;  // relative to the run's output directory, '/'-separated
  std::string description;

  friend bool operator==(const Evidence&, const Evidence&) = default;
};

// Files reserved for the runner inside every case directory.
inline constexpr std::string_view kCaseLogFileName = "case.log";         // CaseLog
inline constexpr std::string_view kProcessLogFileName = "process.log";   // stdout/stderr
inline constexpr std::string_view kCaseResultFileName = ".result.json";  // process isolation
inline constexpr std::string_view kCasePhaseFileName = ".phase";         // process isolation

// Files evidence in one case directory. Thread-safe.
class EvidenceRecorder {
 public:
  // `case_dir` must exist; `relative_dir` is its path relative to the output directory
  // ("cases/REG-001").
  EvidenceRecorder(std::filesystem::path case_dir, std::string relative_dir);

  const std::filesystem::path& dir() const { return dir_; }

  // Reserves `file_name` in the case directory and returns its absolute path for the caller to
  // write (a pcap writer, say). INVALID_ARGUMENT for a name that is not a plain file name
  // ([A-Za-z0-9._-], not starting with '.', at most 100 bytes), is reserved or already taken.
  absl::StatusOr<std::filesystem::path> NewFile(EvidenceKind kind, std::string_view file_name,
                                                std::string_view description);
  // NewFile and write `text` to it.
  absl::Status WriteText(EvidenceKind kind, std::string_view file_name, std::string_view text,
                         std::string_view description);
  // NewFile and copy `source` (a daemon's log, a capture taken elsewhere) to it.
  absl::Status CopyFile(EvidenceKind kind, const std::filesystem::path& source,
                        std::string_view file_name, std::string_view description);
  // Lists a file the runner itself writes in the case directory (case.log, process.log).
  void AddRunnerFile(EvidenceKind kind, std::string_view file_name, std::string_view description);

  // What was recorded, in order, leaving out files that do not exist (reserved by NewFile but
  // never written).
  std::vector<Evidence> Entries() const;

 private:
  struct Entry {
    Evidence evidence;
    std::filesystem::path absolute;
  };

  const std::filesystem::path dir_;
  const std::string relative_dir_;
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_EVIDENCE_H_
