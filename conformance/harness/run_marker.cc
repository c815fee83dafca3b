#include "conformance/harness/run_marker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "conformance/harness/proc.h"
#include "conformance/harness/str_util.h"

namespace nsmcert::harness {

absl::StatusOr<RunOwner> CurrentRunOwner() {
  auto stat = ReadProcStat(getpid());
  if (!stat.ok()) return stat.status();
  return RunOwner{stat->pid, stat->start_time};
}

bool IsRunOwnerAlive(const RunOwner& owner) {
  auto stat = ReadProcStat(owner.pid);
  // A zombie has finished running; its namespaces are leftovers too.
  return stat.ok() && stat->start_time == owner.start_time && stat->state != 'Z';
}

std::string RunMarkerPath(const std::string& dir, const RunId& run_id) {
  return internal::Cat(dir, "/", run_id.str());
}

absl::StatusOr<RunOwner> ReadRunMarker(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(internal::Cat("no run marker ", path));
  RunOwner owner;
  if (!(file >> owner.pid >> owner.start_time) || owner.pid <= 0) {
    return absl::DataLossError(
        internal::Cat("run marker ", path, " is not \"<pid> <start time>\""));
  }
  return owner;
}

absl::StatusOr<RunMarker> RunMarker::Create(const RunId& run_id, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::InternalError(
        internal::Cat("cannot create run marker dir ", dir, ": ", error.message()));
  }
  auto owner = CurrentRunOwner();
  if (!owner.ok()) return owner.status();
  std::string path = RunMarkerPath(dir, run_id);
  // Write a temporary file, then link it into place: a sweep never sees a marker without its
  // content, and link() fails on an existing name, which detects run id collisions.
  const std::string temporary = internal::Cat(dir, "/.", run_id.str(), ".", owner->pid, ".tmp");
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::InternalError(
        internal::Cat("cannot create run marker ", temporary, ": ", std::strerror(errno)));
  }
  const std::string content = internal::Cat(owner->pid, " ", owner->start_time, "\n");
  const ssize_t written = write(fd, content.data(), content.size());
  close(fd);
  if (written != static_cast<ssize_t>(content.size())) {
    unlink(temporary.c_str());
    return absl::InternalError(internal::Cat("cannot write run marker ", temporary));
  }
  const int linked = link(temporary.c_str(), path.c_str());
  const int saved = errno;
  unlink(temporary.c_str());
  if (linked != 0) {
    if (saved == EEXIST) {
      return absl::AlreadyExistsError(internal::Cat("run marker ", path, " exists"));
    }
    return absl::InternalError(
        internal::Cat("cannot create run marker ", path, ": ", std::strerror(saved)));
  }
  return RunMarker(std::move(path));
}

RunMarker::RunMarker(RunMarker&& other) noexcept : path_(std::move(other.path_)) {
  other.path_.clear();
}

RunMarker& RunMarker::operator=(RunMarker&& other) noexcept {
  if (this != &other) {
    (void)Remove();
    path_ = std::move(other.path_);
    other.path_.clear();
  }
  return *this;
}

RunMarker::~RunMarker() { (void)Remove(); }

absl::Status RunMarker::Remove() {
  if (path_.empty()) return absl::OkStatus();
  const std::string path = std::move(path_);
  path_.clear();
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return absl::InternalError(
        internal::Cat("cannot remove run marker ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::harness
