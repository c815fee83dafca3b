#include "pcap/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "pcap/str_util.h"

namespace nsmcert::pcap {
namespace {

absl::Status ErrnoStatus(int error, std::string_view what) {
  std::string message = internal::Cat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(message);
    case EINVAL:
    case EBADF:
      return absl::InvalidArgumentError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace

NetnsRef NetnsRef::Path(std::string path) {
  NetnsRef ref;
  ref.kind_ = Kind::kPath;
  ref.path_ = std::move(path);
  return ref;
}

NetnsRef NetnsRef::Named(std::string_view name) { return Path(internal::Cat("/run/netns/", name)); }

NetnsRef NetnsRef::Fd(int fd) {
  NetnsRef ref;
  ref.kind_ = Kind::kFd;
  ref.fd_ = fd;
  return ref;
}

NetnsRef NetnsRef::Current() { return NetnsRef(); }

std::string NetnsRef::ToString() const {
  switch (kind_) {
    case Kind::kCurrent:
      return "the current namespace";
    case Kind::kPath:
      return path_;
    case Kind::kFd:
      return internal::Cat("namespace fd ", fd_);
  }
  return "";
}

// The one place that calls setns.
absl::Status EnterNetnsOnThisThread(const NetnsRef& netns) {
  switch (netns.kind_) {
    case NetnsRef::Kind::kCurrent:
      return absl::OkStatus();
    case NetnsRef::Kind::kFd:
      if (setns(netns.fd_, CLONE_NEWNET) != 0) {
        return ErrnoStatus(errno, internal::Cat("entering ", netns.ToString()));
      }
      return absl::OkStatus();
    case NetnsRef::Kind::kPath: {
      const int fd = open(netns.path_.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return ErrnoStatus(errno, internal::Cat("opening namespace ", netns.path_));
      const int result = setns(fd, CLONE_NEWNET);
      const int error = errno;
      close(fd);
      if (result != 0) return ErrnoStatus(error, internal::Cat("entering namespace ", netns.path_));
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unknown namespace reference");
}

absl::Status RunInNetns(const NetnsRef& netns, absl::FunctionRef<void()> fn) {
  absl::Status status;
  std::thread worker([&] {
    status = EnterNetnsOnThisThread(netns);
    if (status.ok()) fn();
  });
  worker.join();
  return status;
}

}  // namespace nsmcert::pcap
