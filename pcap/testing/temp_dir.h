// Test-only: a temporary directory removed with everything in it when the object goes.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace nsmcert::pcap::testing {

class ScopedTempDir {
 public:
  ScopedTempDir();  // aborts when no directory can be made: the test cannot run at all
  ~ScopedTempDir();
  ScopedTempDir(const ScopedTempDir&) = delete;
  ScopedTempDir& operator=(const ScopedTempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::string File(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace nsmcert::pcap::testing
