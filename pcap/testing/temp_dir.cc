#include "pcap/testing/temp_dir.h"

#include <stdlib.h>

#include <cstdlib>
#include <iostream>
#include <system_error>

namespace nsmcert::pcap::testing {

ScopedTempDir::ScopedTempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "nsmcert-pcap-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) {
    std::cerr << "cannot make a temporary directory from " << pattern << "\n";
    std::abort();
  }
  path_ = pattern;
}

ScopedTempDir::~ScopedTempDir() {
  std::error_code error;
  std::filesystem::remove_all(path_, error);
}

}  // namespace nsmcert::pcap::testing
