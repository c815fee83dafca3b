#include "reference/kernel/netns.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <future>

#include "absl/strings/numbers.h"
#include "reference/kernel/str_util.h"

namespace nsmcert::kernel {
namespace {

constexpr std::string_view kInodeScheme = "inode://";
constexpr std::string_view kFileScheme = "file://";

std::string ErrnoText(int err) { return std::strerror(err); }

absl::Status ErrnoStatus(int err, std::string_view what) {
  std::string msg = internal::Cat(what, ": ", ErrnoText(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(msg);
    case EEXIST:
      return absl::AlreadyExistsError(msg);
    case EPERM:
    case EACCES:
      return absl::PermissionDeniedError(msg);
    case EINVAL:
      return absl::InvalidArgumentError(msg);
    default:
      return absl::InternalError(msg);
  }
}

// Opens `path` read-only and checks it is a network namespace file.
absl::StatusOr<NetNs> OpenNetNsPath(const std::string& path, std::string_view what) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, internal::Cat("open network namespace ", what));
  return NetNs::Adopt(fd);
}

bool ValidNameChar(char c) { return c > ' ' && c != '/' && c != 0x7f; }

std::string NamedPath(std::string_view name) { return internal::Cat(kNamedNetNsDir, "/", name); }

// Makes kNamedNetNsDir exist and be a mount point with shared propagation, so that a namespace
// bind-mounted there is visible in mount namespaces created later (what iproute2 does).
absl::Status PrepareNamedNetNsDir() {
  if (mkdir("/run", 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, "mkdir /run");
  }
  if (mkdir(kNamedNetNsDir, 0755) != 0 && errno != EEXIST) {
    return ErrnoStatus(errno, internal::Cat("mkdir ", kNamedNetNsDir));
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (mount("", kNamedNetNsDir, "none", MS_SHARED | MS_REC, nullptr) == 0) {
      return absl::OkStatus();
    }
    // EINVAL: not a mount point yet. Bind it onto itself once, then retry.
    if (errno != EINVAL || attempt > 0) {
      return ErrnoStatus(errno, internal::Cat("make ", kNamedNetNsDir, " a shared mount"));
    }
    if (mount(kNamedNetNsDir, kNamedNetNsDir, "none", MS_BIND | MS_REC, nullptr) != 0) {
      return ErrnoStatus(errno, internal::Cat("bind-mount ", kNamedNetNsDir, " onto itself"));
    }
  }
  return absl::OkStatus();
}

// Calls `visit(path)` for every candidate namespace file this process can see; stops when it
// returns true.
template <class Visit>
bool ForEachVisibleNetNsPath(Visit&& visit) {
  if (visit(std::string("/proc/thread-self/ns/net"))) return true;
  for (const std::string& name : ListNamedNetNs()) {
    if (visit(NamedPath(name))) return true;
  }
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return false;
  bool found = false;
  std::vector<std::string> pids;
  while (dirent* entry = readdir(proc)) {
    int pid = 0;
    if (absl::SimpleAtoi(entry->d_name, &pid)) pids.emplace_back(entry->d_name);
  }
  closedir(proc);
  for (const std::string& pid : pids) {
    if (visit(internal::Cat("/proc/", pid, "/ns/net"))) return true;
  }
  // Threads may sit in a namespace their process does not (a thread that called setns).
  for (const std::string& pid : pids) {
    std::string task_dir = internal::Cat("/proc/", pid, "/task");
    DIR* tasks = opendir(task_dir.c_str());
    if (tasks == nullptr) continue;
    std::vector<std::string> tids;
    while (dirent* entry = readdir(tasks)) {
      int tid = 0;
      if (absl::SimpleAtoi(entry->d_name, &tid) && std::string_view(entry->d_name) != pid) {
        tids.emplace_back(entry->d_name);
      }
    }
    closedir(tasks);
    for (const std::string& tid : tids) {
      if (visit(internal::Cat(task_dir, "/", tid, "/ns/net"))) {
        found = true;
        break;
      }
    }
    if (found) break;
  }
  return found;
}

}  // namespace

absl::StatusOr<NetNsId> ParseInodeUrl(std::string_view url) {
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        internal::Cat("inode URL \"", url, "\": ", why, " (want inode://<dev>/<ino>)"));
  };
  if (!url.starts_with(kInodeScheme)) return bad("scheme is not inode://");
  std::string_view rest = url.substr(kInodeScheme.size());
  size_t slash = rest.find('/');
  if (slash == std::string_view::npos) return bad("missing '/' between dev and ino");
  std::string_view dev_text = rest.substr(0, slash);
  std::string_view ino_text = rest.substr(slash + 1);
  NetNsId id;
  auto parse = [](std::string_view text, std::uint64_t& out) {
    if (text.empty()) return false;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && ptr == text.data() + text.size();
  };
  if (!parse(dev_text, id.dev)) return bad("dev is not a decimal number");
  if (!parse(ino_text, id.ino)) return bad("ino is not a decimal number");
  return id;
}

std::string FormatInodeUrl(NetNsId id) { return internal::Cat(kInodeScheme, id.dev, "/", id.ino); }

absl::Status ValidateNetNsName(std::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("namespace name is empty");
  if (name.size() > 255) {
    return absl::InvalidArgumentError(
        internal::Cat("namespace name \"", name.substr(0, 32), "...\" is longer than 255 bytes"));
  }
  if (name == "." || name == "..") {
    return absl::InvalidArgumentError(internal::Cat("namespace name \"", name, "\" is reserved"));
  }
  for (char c : name) {
    if (!ValidNameChar(c)) {
      return absl::InvalidArgumentError(internal::Cat(
          "namespace name \"", name, "\" contains '/', whitespace or a control character"));
    }
  }
  return absl::OkStatus();
}

NetNs::NetNs(NetNs&& other) noexcept : fd_(std::exchange(other.fd_, -1)), id_(other.id_) {}

NetNs& NetNs::operator=(NetNs&& other) noexcept {
  if (this != &other) {
    Reset();
    fd_ = std::exchange(other.fd_, -1);
    id_ = other.id_;
  }
  return *this;
}

NetNs::~NetNs() { Reset(); }

void NetNs::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  id_ = {};
}

absl::StatusOr<NetNs> NetNs::Current() {
  return OpenNetNsPath("/proc/thread-self/ns/net", "of the calling thread");
}

absl::StatusOr<NetNs> NetNs::FromName(std::string_view name) {
  if (absl::Status valid = ValidateNetNsName(name); !valid.ok()) return valid;
  return OpenNetNsPath(NamedPath(name), internal::Cat("\"", name, "\""));
}

absl::StatusOr<NetNs> NetNs::FromPath(const std::string& path) { return OpenNetNsPath(path, path); }

absl::StatusOr<NetNs> NetNs::FromPid(pid_t pid) {
  return OpenNetNsPath(internal::Cat("/proc/", pid, "/ns/net"), internal::Cat("of pid ", pid));
}

absl::StatusOr<NetNs> NetNs::FromInodeUrl(std::string_view url) {
  if (url.starts_with(kFileScheme)) {
    std::string path(url.substr(kFileScheme.size()));
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(
          internal::Cat("file URL \"", url, "\" has no absolute path"));
    }
    return FromPath(path);
  }
  absl::StatusOr<NetNsId> want = ParseInodeUrl(url);
  if (!want.ok()) return want.status();
  std::optional<NetNs> found;
  ForEachVisibleNetNsPath([&](const std::string& path) {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) return false;
    if (st.st_dev != want->dev || st.st_ino != want->ino) return false;
    // The process may have exited between stat and open; Adopt re-checks the identity.
    absl::StatusOr<NetNs> ns = FromPath(path);
    if (!ns.ok() || !(ns->id() == *want)) return false;
    found.emplace(*std::move(ns));
    return true;
  });
  if (!found) {
    return absl::NotFoundError(internal::Cat("no network namespace with inode URL \"", url,
                                             "\" is visible (searched the calling thread, ",
                                             kNamedNetNsDir,
                                             ", /proc/*/ns/net and "
                                             "/proc/*/task/*/ns/net)"));
  }
  return *std::move(found);
}

absl::StatusOr<NetNs> NetNs::Adopt(int fd) {
  if (fd < 0) return absl::InvalidArgumentError(internal::Cat("namespace fd ", fd, " is invalid"));
  struct statfs fs {};
  struct stat st {};
  if (fstatfs(fd, &fs) != 0 || fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return ErrnoStatus(err, "stat namespace fd");
  }
  if (fs.f_type != NSFS_MAGIC) {
    close(fd);
    return absl::FailedPreconditionError("file is not a namespace (not on nsfs)");
  }
  // nsfs holds every namespace type; only a network namespace will do.
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) {
    close(fd);
    return absl::FailedPreconditionError("file is a namespace, but not a network namespace");
  }
  return NetNs(
      fd, NetNsId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)});
}

std::string NetNs::InodeUrl() const { return FormatInodeUrl(id_); }

absl::StatusOr<NetNs> NetNs::Dup() const {
  if (!valid()) return absl::FailedPreconditionError("Dup of an empty NetNs");
  int fd = fcntl(fd_, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return ErrnoStatus(errno, "dup namespace fd");
  return NetNs(fd, id_);
}

absl::StatusOr<NetNs> CreateNamedNetNs(std::string_view name) {
  if (absl::Status valid = ValidateNetNsName(name); !valid.ok()) return valid;
  if (absl::Status prepared = PrepareNamedNetNsDir(); !prepared.ok()) return prepared;
  const std::string path = NamedPath(name);
  int file = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (file < 0) {
    return ErrnoStatus(errno, internal::Cat("create network namespace \"", name, "\" at ", path));
  }
  close(file);

  // A fresh thread unshares into a new namespace and pins it with a bind mount. Mounts belong to
  // the (shared) mount namespace, so the mount outlives the thread.
  absl::Status made;
  std::thread maker([&] {
    if (unshare(CLONE_NEWNET) != 0) {
      made = ErrnoStatus(errno, internal::Cat("unshare a network namespace for \"", name, "\""));
      return;
    }
    if (mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) != 0) {
      made = ErrnoStatus(errno, internal::Cat("bind-mount network namespace onto ", path));
    }
  });
  maker.join();
  if (!made.ok()) {
    unlink(path.c_str());
    return made;
  }
  absl::StatusOr<NetNs> ns = NetNs::FromPath(path);
  if (!ns.ok()) {
    umount2(path.c_str(), MNT_DETACH);
    unlink(path.c_str());
  }
  return ns;
}

absl::Status DeleteNamedNetNs(std::string_view name) {
  if (absl::Status valid = ValidateNetNsName(name); !valid.ok()) return valid;
  const std::string path = NamedPath(name);
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    return ErrnoStatus(errno, internal::Cat("delete network namespace \"", name, "\""));
  }
  // EINVAL: not mounted (a leftover file from an interrupted create); remove it anyway.
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL) {
    return ErrnoStatus(errno, internal::Cat("unmount network namespace \"", name, "\""));
  }
  if (unlink(path.c_str()) != 0) {
    return ErrnoStatus(errno, internal::Cat("remove ", path));
  }
  return absl::OkStatus();
}

std::vector<std::string> ListNamedNetNs() {
  std::vector<std::string> names;
  DIR* dir = opendir(kNamedNetNsDir);
  if (dir == nullptr) return names;
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    names.emplace_back(name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

absl::StatusOr<ScopedNamedNetNs> ScopedNamedNetNs::Create(std::string_view name) {
  absl::StatusOr<NetNs> ns = CreateNamedNetNs(name);
  if (!ns.ok()) return ns.status();
  return ScopedNamedNetNs(std::string(name), *std::move(ns));
}

ScopedNamedNetNs::ScopedNamedNetNs(ScopedNamedNetNs&& other) noexcept
    : name_(std::exchange(other.name_, {})), ns_(std::move(other.ns_)) {}

ScopedNamedNetNs& ScopedNamedNetNs::operator=(ScopedNamedNetNs&& other) noexcept {
  if (this != &other) {
    (void)Delete();
    name_ = std::exchange(other.name_, {});
    ns_ = std::move(other.ns_);
  }
  return *this;
}

ScopedNamedNetNs::~ScopedNamedNetNs() { (void)Delete(); }

absl::Status ScopedNamedNetNs::Delete() {
  if (name_.empty()) return absl::OkStatus();
  std::string name = std::exchange(name_, {});
  ns_ = NetNs();
  return DeleteNamedNetNs(name);
}

namespace {

std::atomic<std::uint64_t> netns_threads_started{0};

}  // namespace

bool IsCallingThreadNetNs(const NetNs& ns) {
  if (!ns.valid()) return false;
  struct stat st {};
  if (stat("/proc/thread-self/ns/net", &st) != 0) return false;
  return ns.id() ==
         NetNsId{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

std::uint64_t NetNsThreadsStarted() {
  return netns_threads_started.load(std::memory_order_relaxed);
}

namespace internal {

absl::Status RunOnThreadInNetNs(const NetNs& ns, const std::function<void()>& body) {
  if (!ns.valid()) return absl::FailedPreconditionError("enter network namespace: empty NetNs");
  absl::Status entered;
  netns_threads_started.fetch_add(1, std::memory_order_relaxed);
  std::thread worker([&] {
    if (setns(ns.fd(), CLONE_NEWNET) != 0) {
      entered = ErrnoStatus(errno, internal::Cat("enter network namespace ", ns.InodeUrl()));
      return;
    }
    body();
  });
  worker.join();
  return entered;
}

}  // namespace internal

absl::StatusOr<std::unique_ptr<NetNsThread>> NetNsThread::Start(const NetNs& ns) {
  if (!ns.valid()) return absl::FailedPreconditionError("enter network namespace: empty NetNs");
  std::unique_ptr<NetNsThread> self(new NetNsThread());
  std::promise<absl::Status> entered;
  std::future<absl::Status> entered_result = entered.get_future();
  int fd = ns.fd();
  std::string url = ns.InodeUrl();
  netns_threads_started.fetch_add(1, std::memory_order_relaxed);
  self->thread_ = std::thread([raw = self.get(), fd, url, &entered] {
    if (setns(fd, CLONE_NEWNET) != 0) {
      entered.set_value(ErrnoStatus(errno, internal::Cat("enter network namespace ", url)));
      return;
    }
    entered.set_value(absl::OkStatus());
    raw->Loop();
  });
  absl::Status status = entered_result.get();
  if (!status.ok()) {
    self->thread_.join();
    return status;
  }
  return self;
}

NetNsThread::~NetNsThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NetNsThread::Post(std::function<void()> task) {
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back([&] {
      task();
      std::lock_guard<std::mutex> done_lock(done_mu);
      done = true;
      done_cv.notify_one();
    });
  }
  cv_.notify_one();
  std::unique_lock<std::mutex> done_lock(done_mu);
  done_cv.wait(done_lock, [&] { return done; });
}

void NetNsThread::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

absl::StatusOr<NetNs> ProcNetNsResolver::Resolve(std::string_view ref) {
  if (absl::Status valid = ValidateNetNsRef(ref); !valid.ok()) return valid;
  if (ref.empty()) return NetNs::Current();
  if (ref.starts_with(kInodeScheme) || ref.starts_with(kFileScheme)) {
    return NetNs::FromInodeUrl(ref);
  }
  if (ref[0] == '/') return NetNs::FromPath(std::string(ref));
  return NetNs::FromName(ref);
}

absl::Status ValidateNetNsRef(std::string_view ref) {
  if (ref.empty()) return absl::OkStatus();
  if (ref.starts_with(kInodeScheme)) return ParseInodeUrl(ref).status();
  if (ref.starts_with(kFileScheme)) {
    std::string_view path = ref.substr(kFileScheme.size());
    if (path.empty() || path[0] != '/') {
      return absl::InvalidArgumentError(
          internal::Cat("file URL \"", ref, "\" has no absolute path"));
    }
    return absl::OkStatus();
  }
  if (ref[0] == '/') return absl::OkStatus();
  if (ref.find("://") != std::string_view::npos) {
    return absl::InvalidArgumentError(internal::Cat(
        "namespace reference \"", ref, "\" has an unsupported scheme (want inode:// or file://)"));
  }
  return ValidateNetNsName(ref);
}

void IndexedNetNsResolver::Add(NetNs ns) {
  if (!ns.valid()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (NetNs& known : known_) {
    if (known.id() == ns.id()) {
      known = std::move(ns);
      return;
    }
  }
  known_.push_back(std::move(ns));
}

bool IndexedNetNsResolver::Remove(NetNsId id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it =
      std::find_if(known_.begin(), known_.end(), [&](const NetNs& ns) { return ns.id() == id; });
  if (it == known_.end()) return false;
  known_.erase(it);
  return true;
}

size_t IndexedNetNsResolver::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_.size();
}

absl::StatusOr<NetNs> IndexedNetNsResolver::Resolve(std::string_view ref) {
  if (ref.starts_with(kInodeScheme)) {
    absl::StatusOr<NetNsId> id = ParseInodeUrl(ref);
    if (!id.ok()) return id.status();
    std::lock_guard<std::mutex> lock(mu_);
    for (const NetNs& known : known_) {
      if (known.id() == *id) return known.Dup();
    }
  }
  if (fallback_ == nullptr) {
    return absl::NotFoundError(
        internal::Cat("namespace \"", ref, "\" is not among the registered namespaces"));
  }
  return fallback_->Resolve(ref);
}

namespace {

absl::StatusOr<std::string> SysctlPath(std::string_view key) {
  if (!key.starts_with("net/") || key.find("..") != std::string_view::npos ||
      key.find("//") != std::string_view::npos || key.ends_with("/")) {
    return absl::InvalidArgumentError(internal::Cat(
        "sysctl key \"", key, "\" must be a path under /proc/sys/net without \"..\""));
  }
  return internal::Cat("/proc/sys/", key);
}

}  // namespace

absl::Status WriteNetSysctl(const NetNs& ns, std::string_view key, std::string_view value) {
  absl::StatusOr<std::string> path = SysctlPath(key);
  if (!path.ok()) return path.status();
  return RunInNetNs(ns, [&]() -> absl::Status {
    int fd = open(path->c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, internal::Cat("open sysctl ", *path));
    ssize_t n = write(fd, value.data(), value.size());
    int err = errno;
    close(fd);
    if (n < 0) return ErrnoStatus(err, internal::Cat("write \"", value, "\" to sysctl ", *path));
    return absl::OkStatus();
  });
}

absl::StatusOr<std::string> ReadNetSysctl(const NetNs& ns, std::string_view key) {
  absl::StatusOr<std::string> path = SysctlPath(key);
  if (!path.ok()) return path.status();
  return RunInNetNs(ns, [&]() -> absl::StatusOr<std::string> {
    int fd = open(path->c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus(errno, internal::Cat("open sysctl ", *path));
    std::string out(4096, '\0');
    ssize_t n = read(fd, out.data(), out.size());
    int err = errno;
    close(fd);
    if (n < 0) return ErrnoStatus(err, internal::Cat("read sysctl ", *path));
    out.resize(static_cast<size_t>(n));
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
  });
}

}  // namespace nsmcert::kernel
