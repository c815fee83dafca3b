#include "conformance/runner/test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <nlohmann/json.hpp>

#include "conformance/cases/test_util.h"

extern char** environ;

namespace nsmcert::conformance::testing {

CommandResult RunCommand(const std::vector<std::string>& argv, const std::filesystem::path& cwd) {
  TempDir capture;
  const std::string out_path = (capture / "out").string();
  const std::string err_path = (capture / "err").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  std::vector<std::string> args = argv;
  std::vector<char*> pointers;
  for (std::string& arg : args) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = 0;
  CommandResult result;
  const int error = posix_spawn(&pid, args[0].c_str(), &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    result.err = "posix_spawn failed";
    return result;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  return result;
}

SuiteRun RunSuite(const std::filesystem::path& nsmcert, const std::filesystem::path& dir,
                  const std::filesystem::path& manifest, const std::string& filter,
                  const std::filesystem::path& bin_dir) {
  const std::filesystem::path out = dir / "out";
  const CommandResult result = RunCommand(
      {nsmcert.string(), "run", "--manifest", manifest.string(), "--filter", filter, "--out",
       out.string(), "--bin-dir", bin_dir.string(), "--jobs", "2", "--no-bundle"},
      dir);
  SuiteRun run;
  run.exit_code = result.exit_code;
  run.console = result.out + result.err;
  const nlohmann::json results =
      nlohmann::json::parse(ReadFile(out / "results.json"), nullptr, false);
  if (results.is_discarded()) return run;
  for (const nlohmann::json& c : results["cases"]) {
    run.cases[c["id"].get<std::string>()] = {c["status"].get<std::string>(),
                                             c["message"].get<std::string>()};
  }
  return run;
}

std::set<std::string> WithStatus(const SuiteRun& run, const std::string& status) {
  std::set<std::string> ids;
  for (const auto& [id, outcome] : run.cases) {
    if (outcome.status == status) ids.insert(id);
  }
  return ids;
}

}  // namespace nsmcert::conformance::testing
