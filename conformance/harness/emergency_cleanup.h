// What must go if the process is interrupted: a fixed table of process groups to SIGKILL, named
// namespaces to delete and files (run markers) to remove, read by a SIGINT/SIGTERM/SIGHUP handler.
//
// The handler may run at any instruction of any thread, so the table is preallocated and lock-free
// and the cleanup uses only async-signal-safe system calls: kill(), umount2() + unlink() of
// /run/netns/<name> (what deleting a named namespace amounts to) and unlink(). Order: processes
// first (a process inside a namespace would keep it alive), then namespaces, then files (markers
// last, so a concurrent sweep never sees a namespace without its marker).
//
// After cleaning up, the handler hands the signal on: to the handler that was installed before
// (chained), or, when there was none, it restores the default action and re-raises, so the process
// still dies of the signal. Signals that were ignored when the handlers were installed stay
// ignored.
//
// Normal code paths register before creating a resource and unregister after removing it; the
// table only matters when the process is interrupted. A crash (SIGSEGV, abort, SIGKILL) runs no
// handler: daemons then die through PR_SET_PDEATHSIG and namespaces are removed by
// SweepLeftovers() (sweep.h) because their run's owner is dead.
#ifndef NSMCERT_CONFORMANCE_HARNESS_EMERGENCY_CLEANUP_H_
#define NSMCERT_CONFORMANCE_HARNESS_EMERGENCY_CLEANUP_H_

#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace nsmcert::harness {

// A registration in the emergency table; unregisters on destruction. Move-only. An empty
// registration (the table was full or the name too long) is harmless: that resource then relies on
// the sweep.
class EmergencyRegistration {
 public:
  EmergencyRegistration() = default;
  EmergencyRegistration(EmergencyRegistration&& other) noexcept;
  EmergencyRegistration& operator=(EmergencyRegistration&& other) noexcept;
  EmergencyRegistration(const EmergencyRegistration&) = delete;
  EmergencyRegistration& operator=(const EmergencyRegistration&) = delete;
  ~EmergencyRegistration();

  // The process group `pgid` gets SIGKILL.
  static EmergencyRegistration ProcessGroup(pid_t pgid);
  // The named namespace `name` (under /run/netns) is deleted.
  static EmergencyRegistration NamedNetNs(std::string_view name);
  // The file `path` is removed.
  static EmergencyRegistration File(std::string_view path);

  bool registered() const { return slot_ >= 0; }
  // Drops the registration now.
  void Reset();

 private:
  EmergencyRegistration(int slot, std::uint32_t published) : slot_(slot), published_(published) {}
  int slot_ = -1;
  std::uint32_t published_ = 0;  // the slot's state word when we registered
};

// Installs the SIGINT, SIGTERM and SIGHUP handlers (once per process; later calls do nothing).
void InstallEmergencySignalHandlers();

// Runs the cleanup now, as the handler would (without handing on a signal). Async-signal-safe.
// Registered entries are cleared, so a later normal teardown finds them gone and does not repeat
// the work on a reused id.
void RunEmergencyCleanup();

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_EMERGENCY_CLEANUP_H_
