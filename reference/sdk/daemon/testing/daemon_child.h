// Test-only: a daemon binary run as a child process, as the daemons' own tests start them (a clean
// NSM_*/NSMCERT_* environment plus the test's, stdout and stderr to files), and the small helpers
// those tests share.
#ifndef NSMCERT_REFERENCE_SDK_DAEMON_TESTING_DAEMON_CHILD_H_
#define NSMCERT_REFERENCE_SDK_DAEMON_TESTING_DAEMON_CHILD_H_

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace nsmcert::sdk::testing {

// A fresh directory under the system's temp dir, named <prefix>-XXXXXX; removed with its contents
// on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The whole file, "" when it cannot be read.
std::string ReadFile(const std::string& path);

// Polls `done` every 20 ms until it holds or `timeout` passes; its last answer.
bool Eventually(const std::function<bool()>& done, absl::Duration timeout);

// `binary` with `args`, the environment of this process without NSM_* and NSMCERT_* variables plus
// `env`, stdout to `out` and stderr to `err`. Killed (SIGKILL) and reaped on destruction if it
// still runs. Not thread-safe.
class DaemonChild {
 public:
  DaemonChild(const std::string& binary, const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env, const std::string& out,
              const std::string& err);
  ~DaemonChild();
  DaemonChild(const DaemonChild&) = delete;
  DaemonChild& operator=(const DaemonChild&) = delete;

  bool started() const { return pid_ > 0; }
  // False once it has exited (and is reaped).
  bool Alive();
  // The wait status once it exited within `timeout` (real time), or -1.
  int Wait(absl::Duration timeout);
  void Signal(int signal);

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
};

}  // namespace nsmcert::sdk::testing

#endif  // NSMCERT_REFERENCE_SDK_DAEMON_TESTING_DAEMON_CHILD_H_
