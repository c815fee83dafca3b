// Run markers: a small file per live run recording which process owns it, so that a later sweep
// can tell leftovers of a dead run from namespaces of a run still in progress.
//
// The marker is created before the run's first namespace and removed after its last one, so a
// harness namespace without a live owner is always safe to remove. The owner is recorded as
// (pid, start time): a reused pid does not make a dead run look alive.
#ifndef NSMCERT_CONFORMANCE_HARNESS_RUN_MARKER_H_
#define NSMCERT_CONFORMANCE_HARNESS_RUN_MARKER_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "conformance/harness/run_id.h"

namespace nsmcert::harness {

// Where markers live by default. /run is cleared at boot together with /run/netns.
inline constexpr char kDefaultRunMarkerDir[] = "/run/nsmcert/runs";

// The process that owns a run.
struct RunOwner {
  pid_t pid = 0;
  std::uint64_t start_time = 0;  // /proc/<pid>/stat field 22
  friend bool operator==(const RunOwner&, const RunOwner&) = default;
};

// The calling process.
absl::StatusOr<RunOwner> CurrentRunOwner();
// True while the process that wrote the marker is still running (same pid and start time).
bool IsRunOwnerAlive(const RunOwner& owner);

// "<dir>/<run id>".
std::string RunMarkerPath(const std::string& dir, const RunId& run_id);
// Reads a marker. NOT_FOUND when the file does not exist, DATA_LOSS when it is unreadable.
absl::StatusOr<RunOwner> ReadRunMarker(const std::string& path);

// Owns the marker file of one run; removes it on destruction. Move-only.
class RunMarker {
 public:
  // Creates "<dir>/<run id>" (and `dir`) recording the calling process. ALREADY_EXISTS when a
  // marker with that run id exists (a run id collision: pick another id).
  static absl::StatusOr<RunMarker> Create(const RunId& run_id,
                                          const std::string& dir = kDefaultRunMarkerDir);

  RunMarker(RunMarker&& other) noexcept;
  RunMarker& operator=(RunMarker&& other) noexcept;
  RunMarker(const RunMarker&) = delete;
  RunMarker& operator=(const RunMarker&) = delete;
  ~RunMarker();

  const std::string& path() const { return path_; }
  // Removes the file now (idempotent).
  absl::Status Remove();

 private:
  explicit RunMarker(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_RUN_MARKER_H_
