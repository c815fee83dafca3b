// Signal handling for daemons. Call BlockDaemonSignals() first thing in main, before any thread
// starts, so every thread inherits the mask; then WaitForTermination() on the main thread once the
// daemon is serving. SIGUSR1 switches logging to TRACE and SIGUSR2 back, as upstream does.
#pragma once

namespace nsmcert::sdk::daemon {

void BlockDaemonSignals();
// Returns the terminating signal (SIGTERM or SIGINT).
int WaitForTermination();

}  // namespace nsmcert::sdk::daemon
