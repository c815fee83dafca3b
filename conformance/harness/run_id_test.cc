#include "conformance/harness/run_id.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>

#include "conformance/harness/proc.h"
#include "conformance/harness/run_marker.h"

namespace nsmcert::harness {
namespace {

TEST(RunIdTest, GeneratedIdsAreShortAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const RunId id = RunId::Generate();
    EXPECT_EQ(id.str().size(), kRunIdLength);
    EXPECT_TRUE(RunId::Parse(id.str()).ok()) << id.str();
    seen.insert(id.str());
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(RunIdTest, NamesCarryTheRunIdAndParseBack) {
  const RunId id = *RunId::Parse("ab12cd");
  EXPECT_EQ(id.NamespaceName("node-a"), "nsmc-ab12cd-node-a");
  EXPECT_EQ(id.NamespacePrefix(), "nsmc-ab12cd-");
  auto parsed = RunIdOfNamespace("nsmc-ab12cd-node-a");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(*parsed, id);
}

TEST(RunIdTest, OtherNamesHaveNoRunId) {
  for (const char* name : {"node-a", "nsmc-", "nsmc-ab12cd", "nsmc-ab12cd-", "nsmc-AB12CD-x",
                           "nsmc-ab12c-node", "xnsmc-ab12cd-node"}) {
    EXPECT_FALSE(RunIdOfNamespace(name).has_value()) << name;
  }
  EXPECT_FALSE(RunId::Parse("ab-2cd").ok());
  EXPECT_FALSE(RunId::Parse("abc").ok());
}

class RunMarkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nsmcert-marker-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(RunMarkerTest, RecordsTheLiveOwnerAndRemovesItselfOnDestruction) {
  const RunId id = RunId::Generate();
  std::string path;
  {
    auto marker = RunMarker::Create(id, dir_ + "/runs");
    ASSERT_TRUE(marker.ok()) << marker.status();
    path = marker->path();
    EXPECT_EQ(path, RunMarkerPath(dir_ + "/runs", id));
    auto owner = ReadRunMarker(path);
    ASSERT_TRUE(owner.ok()) << owner.status();
    EXPECT_EQ(owner->pid, getpid());
    EXPECT_EQ(*owner, *CurrentRunOwner());
    EXPECT_TRUE(IsRunOwnerAlive(*owner));
    // A second marker with the same id is a collision.
    EXPECT_EQ(RunMarker::Create(id, dir_ + "/runs").status().code(),
              absl::StatusCode::kAlreadyExists);
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(RunMarkerTest, DeadOwnerIsNotAlive) {
  int release[2];
  ASSERT_EQ(pipe(release), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Wait until the parent has recorded us, then exit.
    close(release[1]);
    char byte;
    (void)!read(release[0], &byte, 1);
    _exit(0);
  }
  close(release[0]);
  auto stat = ReadProcStat(child);
  ASSERT_TRUE(stat.ok()) << stat.status();
  const RunOwner owner{child, stat->start_time};
  EXPECT_TRUE(IsRunOwnerAlive(owner));
  close(release[1]);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_FALSE(IsRunOwnerAlive(owner));
  // Same pid as a live process but another start time: a reused pid, not the owner.
  auto me = *CurrentRunOwner();
  me.start_time += 1;
  EXPECT_FALSE(IsRunOwnerAlive(me));
}

TEST_F(RunMarkerTest, UnreadableMarkerIsDataLoss) {
  const std::string path = dir_ + "/garbage";
  FILE* file = fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr);
  fputs("not a pid\n", file);
  fclose(file);
  EXPECT_EQ(ReadRunMarker(path).status().code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadRunMarker(dir_ + "/missing").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace nsmcert::harness
