// Test-only: running a binary and capturing what it printed, for the CLI tests.
#ifndef NSMCERT_CONFORMANCE_RUNNER_TEST_SUPPORT_H_
#define NSMCERT_CONFORMANCE_RUNNER_TEST_SUPPORT_H_

#include <filesystem>
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

}  // namespace nsmcert::conformance::testing

#endif  // NSMCERT_CONFORMANCE_RUNNER_TEST_SUPPORT_H_
