#include "conformance/harness/sweep.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "conformance/harness/proc.h"
#include "conformance/harness/run_id.h"
#include "conformance/harness/str_util.h"
#include "reference/kernel/netns.h"

namespace nsmcert::harness {
namespace {

// True when the run has a marker whose owner still runs. Markers appear atomically with their
// content (run_marker.cc), so an unreadable marker is corrupt, not half-written: its run is dead.
bool RunIsAlive(const RunId& run_id, const SweepOptions& options) {
  auto owner = ReadRunMarker(RunMarkerPath(options.marker_dir, run_id));
  return owner.ok() && IsRunOwnerAlive(*owner);
}

std::vector<std::string> ListMarkerNames(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (const dirent* entry = readdir(handle)) {
    const std::string name = entry->d_name;
    if (RunId::Parse(name).ok()) names.push_back(name);
  }
  closedir(handle);
  return names;
}

}  // namespace

std::string SweepReport::ToString() const {
  std::string out;
  for (const std::string& name : removed_namespaces) {
    internal::Append(&out, "removed namespace ", name, "\n");
  }
  for (pid_t pid : killed_processes) internal::Append(&out, "killed process ", pid, "\n");
  for (const std::string& path : removed_markers) {
    internal::Append(&out, "removed run marker ", path, "\n");
  }
  for (const std::string& failure : failures) internal::Append(&out, "FAILED: ", failure, "\n");
  return out.empty() ? "nothing to sweep\n" : out;
}

SweepReport SweepLeftovers(const SweepOptions& options) {
  SweepReport report;
  std::map<std::string, std::vector<std::string>> namespaces_by_run;
  for (const std::string& name : kernel::ListNamedNetNs()) {
    if (auto run_id = RunIdOfNamespace(name)) namespaces_by_run[run_id->str()].push_back(name);
  }
  for (const std::string& marker : ListMarkerNames(options.marker_dir)) {
    namespaces_by_run.try_emplace(marker);  // a marker of a dead run with no namespace left
  }

  for (const auto& [id_text, names] : namespaces_by_run) {
    const RunId run_id = *RunId::Parse(id_text);
    if (RunIsAlive(run_id, options)) continue;
    bool all_removed = true;
    for (const std::string& name : names) {
      struct stat info {};
      const std::string path = internal::Cat(kernel::kNamedNetNsDir, "/", name);
      // A process left inside (its daemon escaped PR_SET_PDEATHSIG, say) would keep the namespace
      // and its links alive after the name is gone.
      if (stat(path.c_str(), &info) == 0) {
        for (pid_t pid : PidsInNetNs(info.st_ino)) {
          if (pid != getpid() && kill(pid, SIGKILL) == 0) report.killed_processes.push_back(pid);
        }
      }
      absl::Status deleted = kernel::DeleteNamedNetNs(name);
      if (deleted.ok()) {
        report.removed_namespaces.push_back(name);
      } else if (deleted.code() != absl::StatusCode::kNotFound) {
        report.failures.push_back(std::string(deleted.message()));
        all_removed = false;
      }
    }
    // The marker goes last, and only when its namespaces are gone, so a failed removal is retried
    // by the next sweep rather than forgotten.
    const std::string marker = RunMarkerPath(options.marker_dir, run_id);
    if (all_removed && access(marker.c_str(), F_OK) == 0) {
      if (unlink(marker.c_str()) == 0) {
        report.removed_markers.push_back(marker);
      } else {
        report.failures.push_back(internal::Cat("cannot remove run marker ", marker));
      }
    }
  }
  return report;
}

}  // namespace nsmcert::harness
