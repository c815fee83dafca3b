#include "reference/sdk/daemon/signals.h"

#include <signal.h>

#include "reference/sdk/daemon/log.h"

namespace nsmcert::sdk::daemon {
namespace {

sigset_t DaemonSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  return set;
}

}  // namespace

void BlockDaemonSignals() {
  sigset_t set = DaemonSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A peer closing a socket must not kill the daemon.
  signal(SIGPIPE, SIG_IGN);
}

int WaitForTermination() {
  sigset_t set = DaemonSignals();
  for (;;) {
    int sig = 0;
    if (sigwait(&set, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      SetLogLevel(LogLevel::kTrace);
      NSM_LOG(kInfo) << "log level switched to TRACE (SIGUSR1)";
    } else if (sig == SIGUSR2) {
      RestoreConfiguredLogLevel();
      NSM_LOG(kInfo) << "log level restored (SIGUSR2)";
    } else {
      return sig;
    }
  }
}

}  // namespace nsmcert::sdk::daemon
