// Test-only: running a binary and capturing what it printed, for the CLI tests, and running the
// nsmcert CLI on a manifest to read back each case's verdict (tests that show cases fail a double).
#ifndef NSMCERT_CONFORMANCE_RUNNER_TEST_SUPPORT_H_
#define NSMCERT_CONFORMANCE_RUNNER_TEST_SUPPORT_H_

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace nsmcert::conformance::testing {

struct CommandResult {
  int exit_code = -1;  // -1 when it did not exit normally
  std::string out;
  std::string err;
};

// Runs argv[0] with `argv` in `cwd`, waits, and returns its exit code and output.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::filesystem::path& cwd);

struct CaseOutcome {
  std::string status;  // results.json's status: pass, fail, skip, n/a, error
  std::string message;
};

struct SuiteRun {
  int exit_code = -1;
  std::string console;                       // what nsmcert printed
  std::map<std::string, CaseOutcome> cases;  // by id; empty when results.json is unreadable
};

// Runs `nsmcert run --manifest <manifest> --filter <filter> --bin-dir <bin_dir> --jobs 2` in
// `dir` (results in <dir>/out, no bundle) and reads every case's verdict from results.json.
SuiteRun RunSuite(const std::filesystem::path& nsmcert, const std::filesystem::path& dir,
                  const std::filesystem::path& manifest, const std::string& filter,
                  const std::filesystem::path& bin_dir);

// The ids of the cases of `run` with `status`.
std::set<std::string> WithStatus(const SuiteRun& run, const std::string& status);

}  // namespace nsmcert::conformance::testing

#endif  // NSMCERT_CONFORMANCE_RUNNER_TEST_SUPPORT_H_
