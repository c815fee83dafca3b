// The nsmcert command line. main.cc passes the global catalogue; tests pass their own.
//
//   nsmcert run --manifest FILE [--profile core|full] [--filter EXPR] [--out DIR] [--jobs N]
//               [--timeout SECONDS] [--isolation process|thread] [--no-bundle] [--bin-dir DIR]
//   nsmcert list [--json] [--profile core|full] [--filter EXPR]
//   nsmcert report DIR
//   nsmcert --help | --version
//
// Exit codes: 0 every applicable MUST case passed (or the command succeeded), 1 the
// implementation failed a MUST case, 2 the harness failed (bad usage, bad manifest, a case that
// broke or could not be judged, I/O errors).
#ifndef NSMCERT_CONFORMANCE_RUNNER_CLI_H_
#define NSMCERT_CONFORMANCE_RUNNER_CLI_H_

#include <ostream>
#include <string>
#include <vector>

#include "conformance/cases/registry.h"

namespace nsmcert::conformance {

inline constexpr int kExitPass = 0;
inline constexpr int kExitImplementationFailed = 1;
inline constexpr int kExitHarnessFailed = 2;

// The version nsmcert reports (the CMake project version).
std::string_view ToolVersion();

// Runs the command in `args` (args[0] is the program name) and returns the exit code.
// `executable` is the binary process isolation re-executes (normally /proc/self/exe).
int RunCli(const std::vector<std::string>& args, const CaseRegistry& registry,
           const std::string& executable, std::ostream& out, std::ostream& err);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_RUNNER_CLI_H_
