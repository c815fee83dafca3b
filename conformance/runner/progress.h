// Console output of a run: a header, a line per case as it starts and as it ends (status, id,
// level, area, time, title, and the message for anything but a pass), then a summary by area with
// case and wall times, the total wall time and the verdict. Thread-safe: workers report
// concurrently and lines never interleave.
#ifndef NSMCERT_CONFORMANCE_RUNNER_PROGRESS_H_
#define NSMCERT_CONFORMANCE_RUNNER_PROGRESS_H_

#include <filesystem>
#include <ostream>
#include <string>

#include "absl/synchronization/mutex.h"
#include "conformance/report/results.h"

namespace nsmcert::conformance {

class ProgressPrinter {
 public:
  // Prints nothing when `out` is null.
  explicit ProgressPrinter(std::ostream* out) : out_(out) {}

  void RunStarted(const RunResult& run, int selected, int not_applicable,
                  const std::filesystem::path& out_dir);
  void CaseStarted(const CaseInfo& info);
  void CaseFinished(const CaseResult& result, int done, int total);
  void RunFinished(const RunResult& run, const std::filesystem::path& out_dir, bool bundled);

 private:
  void Print(const std::string& text);

  std::ostream* out_;
  absl::Mutex mu_;
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_RUNNER_PROGRESS_H_
