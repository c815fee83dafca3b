// Naming a network namespace and entering it on a thread.
//
// Namespace membership is per thread, and a socket (packet socket, pcap handle) opened by a thread
// stays bound to the namespace that thread was in. So everything here enters a namespace only on
// a thread made for the purpose, never on the caller's thread.
#pragma once

#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"

namespace nsmcert::pcap {

// Which network namespace an operation runs in. A value type; it opens nothing by itself.
class NetnsRef {
 public:
  // A file that is a network namespace: "/run/netns/<name>", "/proc/<pid>/ns/net", ...
  static NetnsRef Path(std::string path);
  // A namespace made by `ip netns add <name>` (the file /run/netns/<name>).
  static NetnsRef Named(std::string_view name);
  // An open namespace file descriptor, borrowed: it must stay open until the call that takes this
  // reference (Capture::Start, FrameSender::Open, RunInNetns) has returned.
  static NetnsRef Fd(int fd);
  // The namespace of the calling thread: nothing is entered.
  static NetnsRef Current();

  bool is_current() const { return kind_ == Kind::kCurrent; }
  // For messages: the path, "fd N" or "the current namespace".
  std::string ToString() const;

 private:
  enum class Kind { kCurrent, kPath, kFd };
  friend absl::Status EnterNetnsOnThisThread(const NetnsRef& netns);

  Kind kind_ = Kind::kCurrent;
  std::string path_;
  int fd_ = -1;
};

// Moves the calling thread into `netns` (a no-op for Current()). The thread stays there: call it
// only on a thread made for work in that namespace. Errors: NotFound when the path does not
// exist, InvalidArgument when it is not a network namespace, PermissionDenied without
// CAP_SYS_ADMIN.
absl::Status EnterNetnsOnThisThread(const NetnsRef& netns);

// Runs `fn` on a new thread that first entered `netns`, and waits for it. Returns the error of
// entering the namespace (fn does not run then), or OK after fn ran.
absl::Status RunInNetns(const NetnsRef& netns, absl::FunctionRef<void()> fn);

}  // namespace nsmcert::pcap
