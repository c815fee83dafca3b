// Network namespaces: owning handles, named namespaces, resolving NSM inode URLs, and running
// work inside a namespace.
//
// This is the one module that enters namespaces. Namespace membership is per thread, so nothing
// here ever calls setns() on the caller's thread: work runs on a dedicated thread that entered the
// namespace (RunInNetNs, NetNsThread). Sockets opened there (netlink, packet, raw ICMP) stay bound
// to that namespace afterwards and can be used from any thread.
//
// Errors are absl::Status values whose messages name the namespace (name, path or URL) and the
// errno text.
#ifndef NSMCERT_REFERENCE_KERNEL_NETNS_H_
#define NSMCERT_REFERENCE_KERNEL_NETNS_H_

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nsmcert::kernel {

// Where `ip netns` keeps named namespaces (a bind mount of the namespace file per name).
inline constexpr char kNamedNetNsDir[] = "/run/netns";

// The (st_dev, st_ino) pair that identifies a namespace, as NSM writes it on the wire.
struct NetNsId {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  friend bool operator==(const NetNsId&, const NetNsId&) = default;
};

// Parses "inode://<dev>/<ino>" (decimal numbers, spec §2.5). INVALID_ARGUMENT names the URL.
absl::StatusOr<NetNsId> ParseInodeUrl(std::string_view url);
// Formats "inode://<dev>/<ino>".
std::string FormatInodeUrl(NetNsId id);

// Checks a named-namespace name: non-empty, at most 255 bytes, no '/', not "." or "..", no
// whitespace or control characters. INVALID_ARGUMENT names the problem.
absl::Status ValidateNetNsName(std::string_view name);

// A move-only owner of an open file descriptor that refers to a network namespace. The fd is
// close-on-exec and closed by the destructor. Holding it keeps the namespace alive even after its
// last process exited or its name was deleted.
class NetNs {
 public:
  NetNs() = default;  // empty: valid() is false
  NetNs(NetNs&& other) noexcept;
  NetNs& operator=(NetNs&& other) noexcept;
  NetNs(const NetNs&) = delete;
  NetNs& operator=(const NetNs&) = delete;
  ~NetNs();

  // The calling thread's namespace (/proc/thread-self/ns/net).
  static absl::StatusOr<NetNs> Current();
  // A named namespace: <kNamedNetNsDir>/<name>. NOT_FOUND when there is no such name.
  static absl::StatusOr<NetNs> FromName(std::string_view name);
  // Any path to a namespace file (a named-netns file, /proc/<pid>/ns/net, a bind mount ...).
  // FAILED_PRECONDITION when the path exists but is not a network namespace.
  static absl::StatusOr<NetNs> FromPath(const std::string& path);
  // The namespace of process `pid`.
  static absl::StatusOr<NetNs> FromPid(pid_t pid);
  // Resolves "inode://<dev>/<ino>" by searching the namespaces this process can see: its own
  // thread's, the named-netns dir, and /proc/*/ns/net and /proc/*/task/*/ns/net. Also accepts
  // "file:///path" (opened as FromPath). NOT_FOUND (naming the URL) when no namespace matches.
  static absl::StatusOr<NetNs> FromInodeUrl(std::string_view url);
  // Takes ownership of `fd` (e.g. one received by SCM_RIGHTS) after checking it refers to a
  // network namespace; closes it on error.
  static absl::StatusOr<NetNs> Adopt(int fd);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  NetNsId id() const { return id_; }
  std::uint64_t dev() const { return id_.dev; }
  std::uint64_t ino() const { return id_.ino; }
  // "inode://<dev>/<ino>", decimal.
  std::string InodeUrl() const;
  // An independent handle (dup'd fd) to the same namespace.
  absl::StatusOr<NetNs> Dup() const;

  // Same namespace (same dev and inode), whatever the fds.
  bool SameAs(const NetNs& other) const { return valid() && other.valid() && id_ == other.id_; }

 private:
  NetNs(int fd, NetNsId id) : fd_(fd), id_(id) {}
  void Reset();

  int fd_ = -1;
  NetNsId id_;
};

// Creates a named namespace as `ip netns add` does: a new namespace is bind-mounted onto
// <kNamedNetNsDir>/<name> (making the directory a shared mount point first if needed). The new
// namespace has only a down `lo`. ALREADY_EXISTS when the name is taken. Needs CAP_SYS_ADMIN.
absl::StatusOr<NetNs> CreateNamedNetNs(std::string_view name);
// Unmounts and removes a named namespace. The namespace itself lives on while anything holds it
// (an fd, a process). NOT_FOUND when there is no such name.
absl::Status DeleteNamedNetNs(std::string_view name);
// Names under <kNamedNetNsDir>, sorted; empty when the directory does not exist.
std::vector<std::string> ListNamedNetNs();

// An RAII named namespace: created by Create, deleted (by name) on destruction. For tests and for
// topologies that must not leak names when something fails.
class ScopedNamedNetNs {
 public:
  static absl::StatusOr<ScopedNamedNetNs> Create(std::string_view name);
  ScopedNamedNetNs(ScopedNamedNetNs&& other) noexcept;
  ScopedNamedNetNs& operator=(ScopedNamedNetNs&& other) noexcept;
  ~ScopedNamedNetNs();

  const std::string& name() const { return name_; }
  const NetNs& ns() const { return ns_; }
  // Deletes the name now; returns the error instead of ignoring it.
  absl::Status Delete();

 private:
  ScopedNamedNetNs(std::string name, NetNs ns) : name_(std::move(name)), ns_(std::move(ns)) {}
  std::string name_;
  NetNs ns_;
};

// True when `ns` is the calling thread's own network namespace: the same (dev, inode) as
// /proc/thread-self/ns/net. A socket for such a namespace can be created right here, without a
// thread that enters it. False when /proc/thread-self/ns/net cannot be read, so a caller that
// falls back to entering the namespace stays correct.
bool IsCallingThreadNetNs(const NetNs& ns);

// How many threads this process has started to enter a namespace (RunInNetNs, NetNsThread), for
// tests and diagnostics that check a path does without one.
std::uint64_t NetNsThreadsStarted();

namespace internal {

// Runs `body` on a new thread that first entered `ns` with setns(CLONE_NEWNET), and joins it.
// Returns the setns error (naming the namespace) without running `body` if entering fails.
absl::Status RunOnThreadInNetNs(const NetNs& ns, const std::function<void()>& body);

// Maps the result type R of a function run in a namespace to what RunInNetNs returns:
// void -> absl::Status; absl::Status -> absl::Status; absl::StatusOr<T> -> absl::StatusOr<T>;
// anything else -> absl::StatusOr<R>. So a failure to enter the namespace travels in the same
// value as the function's own errors.
template <class R>
struct NetNsResult {
  using type = absl::StatusOr<R>;
};
template <>
struct NetNsResult<void> {
  using type = absl::Status;
};
template <>
struct NetNsResult<absl::Status> {
  using type = absl::Status;
};
template <class T>
struct NetNsResult<absl::StatusOr<T>> {
  using type = absl::StatusOr<T>;
};

}  // namespace internal

// Runs `fn()` on a dedicated thread inside `ns` and returns its result (see internal::NetNsResult
// for the type). Blocks the caller until `fn` returns. The caller's thread never changes namespace.
template <class F>
auto RunInNetNs(const NetNs& ns, F&& fn) ->
    typename internal::NetNsResult<std::invoke_result_t<F&>>::type {
  using R = std::invoke_result_t<F&>;
  using Out = typename internal::NetNsResult<R>::type;
  if constexpr (std::is_void_v<R>) {
    return internal::RunOnThreadInNetNs(ns, [&fn] { fn(); });
  } else {
    std::optional<R> result;
    absl::Status entered = internal::RunOnThreadInNetNs(ns, [&] { result.emplace(fn()); });
    if (!entered.ok()) return Out(entered);
    return Out(std::move(*result));
  }
}

// A long-lived thread inside one namespace, for repeated work without a thread per call. Run()
// posts a task and waits for its result; tasks run one at a time in submission order. Run() is
// safe to call from several threads; calling it from a task on the same executor deadlocks.
class NetNsThread {
 public:
  // Starts the thread and enters `ns`; returns the setns error if that fails.
  static absl::StatusOr<std::unique_ptr<NetNsThread>> Start(const NetNs& ns);
  ~NetNsThread();  // finishes queued tasks, then joins
  NetNsThread(const NetNsThread&) = delete;
  NetNsThread& operator=(const NetNsThread&) = delete;

  template <class F>
  auto Run(F&& fn) -> std::invoke_result_t<F&> {
    using R = std::invoke_result_t<F&>;
    if constexpr (std::is_void_v<R>) {
      Post([&fn] { fn(); });
    } else {
      std::optional<R> result;
      Post([&] { result.emplace(fn()); });
      return std::move(*result);
    }
  }

 private:
  NetNsThread() = default;
  void Post(std::function<void()> task);  // blocks until the task ran
  void Loop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Resolves a namespace reference carried by NSM (an inode URL) to an open namespace. Kept behind
// an interface so a resolver that knows fds received over SCM_RIGHTS (spec §2.5) can stand in for
// the /proc search.
class NetNsResolver {
 public:
  virtual ~NetNsResolver() = default;
  virtual absl::StatusOr<NetNs> Resolve(std::string_view ref) = 0;
};

// The default resolver. Accepts: "" (the calling thread's namespace), "inode://dev/ino"
// (NetNs::FromInodeUrl), "file:///path" or an absolute path (NetNs::FromPath), and otherwise a
// named namespace (NetNs::FromName).
class ProcNetNsResolver : public NetNsResolver {
 public:
  absl::StatusOr<NetNs> Resolve(std::string_view ref) override;
};

// Checks the syntax of a reference ProcNetNsResolver accepts, without touching the system.
absl::Status ValidateNetNsRef(std::string_view ref);

// Resolves inode URLs against namespaces registered by handle, for example namespace fds received
// over SCM_RIGHTS alongside a request (spec §2.5), and hands every other reference (and unknown
// inode URLs) to `fallback`. Thread-safe.
class IndexedNetNsResolver : public NetNsResolver {
 public:
  // `fallback` is not owned and may be nullptr (then unknown references are NOT_FOUND).
  explicit IndexedNetNsResolver(NetNsResolver* fallback = nullptr) : fallback_(fallback) {}
  // Registers `ns` under its (dev, ino); replaces an earlier handle for the same namespace.
  void Add(NetNs ns);
  // Forgets the handle for `id`; false when there was none.
  bool Remove(NetNsId id);
  size_t size() const;
  absl::StatusOr<NetNs> Resolve(std::string_view ref) override;

 private:
  mutable std::mutex mu_;
  std::vector<NetNs> known_;
  NetNsResolver* fallback_;
};

// Network sysctls are per namespace: these read and write /proc/sys/<key> from a thread inside
// `ns`. `key` is the path under /proc/sys with '/' separators
// ("net/ipv4/conf/nsm-1/route_localnet"; slashes rather than dots because interface names may
// contain dots). It must start with "net/" and contain no "..". NOT_FOUND when the key does not
// exist (e.g. the interface is gone).
absl::Status WriteNetSysctl(const NetNs& ns, std::string_view key, std::string_view value);
absl::StatusOr<std::string> ReadNetSysctl(const NetNs& ns, std::string_view key);

}  // namespace nsmcert::kernel

#endif  // NSMCERT_REFERENCE_KERNEL_NETNS_H_
