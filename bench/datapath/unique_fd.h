// A move-only owner of a file descriptor (sockets, pipes), closed on destruction.
#ifndef NSMCERT_BENCH_DATAPATH_UNIQUE_FD_H_
#define NSMCERT_BENCH_DATAPATH_UNIQUE_FD_H_

#include <unistd.h>

#include <utility>

namespace nsmcert::bench {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { Reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

}  // namespace nsmcert::bench

#endif  // NSMCERT_BENCH_DATAPATH_UNIQUE_FD_H_
