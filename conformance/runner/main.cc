// nsmcert: the conformance suite's command line (cli.h), with every case of the catalogue linked
// in (conformance/cases/<area>/).
#include <filesystem>
#include <iostream>
#include <string>
#include <system_error>
#include <vector>

#include "conformance/cases/registry.h"
#include "conformance/runner/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv, argv + argc);
  // Process isolation re-executes this very binary, wherever it was started from.
  std::error_code error;
  std::string executable = std::filesystem::read_symlink("/proc/self/exe", error).string();
  if (error) executable = argc > 0 ? argv[0] : "nsmcert";
  return nsmcert::conformance::RunCli(args, nsmcert::conformance::CaseRegistry::Global(),
                                      executable, std::cout, std::cerr);
}
