// Writes the sample frames (pcap/testing/frames.h) into a directory, one file each, as the seed
// corpus of the libFuzzer target: usage `pcap_fuzz_seed_corpus <dir>`.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "pcap/testing/frames.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: " << argv[0] << " <corpus directory>\n";
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    std::cerr << dir << ": " << error.message() << "\n";
    return 1;
  }
  for (const auto& sample : nsmcert::pcap::testing::SampleFrames()) {
    std::ofstream out(dir / sample.name, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(sample.bytes.data()),
              static_cast<std::streamsize>(sample.bytes.size()));
    if (!out) {
      std::cerr << (dir / sample.name) << ": write failed\n";
      return 1;
    }
  }
  return 0;
}
