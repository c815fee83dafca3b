#include "conformance/report/tar_gz.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <map>

#include "conformance/cases/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;

// Files of a small tree: nested, empty, binary, and paths long enough for the ustar prefix field
// and for a pax header.
std::map<std::string, std::string> SampleTree() {
  std::string binary;
  for (int i = 0; i < 3000; ++i) binary += static_cast<char>(i * 7 % 256);
  const std::string long_dir = "cases/" + std::string(90, 'd');
  return {
      {"results.json", "{\"schema_version\": 1}\n"},
      {"empty.txt", ""},
      {"cases/REG-001/underlay.pcap", binary},
      {"cases/REG-001/case.log", std::string(512, 'x')},  // exactly one block
      {long_dir + "/" + std::string(60, 'f') + ".log", "prefix split"},
      {std::string(120, 'a') + "/" + std::string(120, 'b') + "/" + std::string(40, 'c'), "pax"},
  };
}

void MakeTree(const std::filesystem::path& root, const std::map<std::string, std::string>& files) {
  for (const auto& [path, contents] : files) {
    std::filesystem::create_directories((root / path).parent_path());
    testing::WriteFile(root / path, contents);
  }
}

TEST(TarGzTest, RoundTripsEveryFileAndDirectory) {
  TempDir dir;
  const auto files = SampleTree();
  MakeTree(dir / "out", files);
  const std::filesystem::path archive = dir / "bundle.tar.gz";
  ASSERT_TRUE(WriteTarGz(dir / "out", archive, "nsmcert-results").ok());
  EXPECT_FALSE(std::filesystem::exists(dir / "bundle.tar.gz.partial"));

  absl::StatusOr<std::vector<TarEntry>> entries = ReadTarGz(archive);
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::map<std::string, std::string> read;
  std::size_t directories = 0;
  for (const TarEntry& entry : *entries) {
    ASSERT_TRUE(entry.path.starts_with("nsmcert-results/")) << entry.path;
    if (entry.directory) {
      ++directories;
      EXPECT_EQ(entry.mode, 0755u);
      continue;
    }
    EXPECT_EQ(entry.mode, 0644u);
    EXPECT_GT(entry.mtime, 0);
    read[entry.path.substr(std::string("nsmcert-results/").size())] = entry.contents;
  }
  EXPECT_EQ(read, files);
  EXPECT_GE(directories, 4u);  // the top, cases, cases/REG-001, the long ones
}

TEST(TarGzTest, SystemTarReadsItToo) {
  if (std::system("command -v tar >/dev/null 2>&1") != 0) GTEST_SKIP() << "no tar on this host";
  TempDir dir;
  const auto files = SampleTree();
  MakeTree(dir / "out", files);
  ASSERT_TRUE(WriteTarGz(dir / "out", dir / "b.tar.gz", "top").ok());
  std::filesystem::create_directories(dir / "x");
  const std::string command =
      "tar -xzf '" + (dir / "b.tar.gz").string() + "' -C '" + (dir / "x").string() + "'";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << command;
  for (const auto& [path, contents] : files) {
    EXPECT_EQ(ReadFile(dir / "x" / "top" / path), contents) << path;
  }
}

TEST(TarGzTest, LeavesOutTheArchiveItselfAndExcludedPaths) {
  TempDir dir;
  MakeTree(dir.path(), {{"a.txt", "a"}, {"skip.txt", "s"}});
  const std::filesystem::path archive = dir / "bundle.tar.gz";
  testing::WriteFile(archive, "an older bundle");
  ASSERT_TRUE(WriteTarGz(dir.path(), archive, "top", {"skip.txt"}).ok());
  absl::StatusOr<std::vector<TarEntry>> entries = ReadTarGz(archive);
  ASSERT_TRUE(entries.ok()) << entries.status();
  std::vector<std::string> paths;
  for (const TarEntry& entry : *entries) paths.push_back(entry.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"top/", "top/a.txt"}));
}

TEST(TarGzTest, ReportsUnreadableAndCorruptArchives) {
  TempDir dir;
  EXPECT_EQ(ReadTarGz(dir / "missing.tar.gz").status().code(), absl::StatusCode::kNotFound);
  testing::WriteFile(dir / "garbage.tar.gz", std::string(1024, 'g'));
  EXPECT_EQ(ReadTarGz(dir / "garbage.tar.gz").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteTarGz(dir / "no-such-dir", dir / "x.tar.gz", "top").code(),
            absl::StatusCode::kInternal);
}

}  // namespace
}  // namespace nsmcert::conformance
