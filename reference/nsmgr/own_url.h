// The nsmgr's own public URL (spec §2.1), shared by the elements that compare with it or write it
// into the registry (local_bypass, discover_forwarder). A daemon listening on `tcp://:0` learns
// the URL only once its listeners are bound, after its chains were built, so the elements hold
// this value object instead of a string.
//
// Threading: Get and Set are thread-safe.
#pragma once

#include <memory>
#include <mutex>
#include <string>

namespace nsmcert::nsmgr {

class OwnUrl {
 public:
  explicit OwnUrl(std::string url = "") : url_(std::move(url)) {}

  std::string Get() const {
    std::lock_guard lock(mu_);
    return url_;
  }
  void Set(std::string url) {
    std::lock_guard lock(mu_);
    url_ = std::move(url);
  }

 private:
  mutable std::mutex mu_;
  std::string url_;
};

}  // namespace nsmcert::nsmgr
