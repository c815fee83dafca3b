#include "conformance/cases/evidence.h"

#include <gtest/gtest.h>

#include "conformance/cases/test_util.h"

namespace nsmcert::conformance {
namespace {

using testing::ReadFile;
using testing::TempDir;

TEST(EvidenceTest, FilesEvidenceUnderTheCaseDirectory) {
  TempDir dir;
  EvidenceRecorder recorder(dir.path(), "cases/REG-001");
  ASSERT_TRUE(
      recorder.WriteText(EvidenceKind::kNote, "reply.txt", "segments: 4", "the reply").ok());
  auto pcap = recorder.NewFile(EvidenceKind::kPcap, "underlay.pcap", "node-a underlay");
  ASSERT_TRUE(pcap.ok());
  EXPECT_EQ(*pcap, dir.path() / "underlay.pcap");
  testing::WriteFile(*pcap, "pcap bytes");
  testing::WriteFile(dir / "daemon.log", "log line\n");
  ASSERT_TRUE(
      recorder.CopyFile(EvidenceKind::kLog, dir / "daemon.log", "nsmgr.log", "nsmgr log").ok());

  EXPECT_EQ(ReadFile(dir / "reply.txt"), "segments: 4");
  EXPECT_EQ(ReadFile(dir / "nsmgr.log"), "log line\n");
  EXPECT_EQ(recorder.Entries(),
            (std::vector<Evidence>{
                {EvidenceKind::kNote, "cases/REG-001/reply.txt", "the reply"},
                {EvidenceKind::kPcap, "cases/REG-001/underlay.pcap", "node-a underlay"},
                {EvidenceKind::kLog, "cases/REG-001/nsmgr.log", "nsmgr log"},
            }));
}

TEST(EvidenceTest, RejectsBadReservedAndDuplicateNames) {
  TempDir dir;
  EvidenceRecorder recorder(dir.path(), "cases/REG-001");
  for (const char* name : {"", "../escape", "a/b", ".hidden", "case.log", "process.log",
                           "space name", ".result.json"}) {
    EXPECT_EQ(recorder.NewFile(EvidenceKind::kNote, name, "").status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
  EXPECT_FALSE(recorder.NewFile(EvidenceKind::kNote, std::string(101, 'a'), "").ok());
  ASSERT_TRUE(recorder.NewFile(EvidenceKind::kNote, "x.txt", "").ok());
  const absl::Status duplicate = recorder.NewFile(EvidenceKind::kNote, "x.txt", "").status();
  EXPECT_NE(duplicate.message().find("already taken"), absl::string_view::npos) << duplicate;
}

TEST(EvidenceTest, CopyOfMissingFileFailsAndFilesNeverWrittenAreNotListed) {
  TempDir dir;
  EvidenceRecorder recorder(dir.path(), "cases/X-001");
  EXPECT_EQ(recorder.CopyFile(EvidenceKind::kLog, dir / "nope", "nope.log", "").code(),
            absl::StatusCode::kInternal);
  ASSERT_TRUE(recorder.NewFile(EvidenceKind::kPcap, "never.pcap", "").ok());
  recorder.AddRunnerFile(EvidenceKind::kLog, kCaseLogFileName, "log");
  EXPECT_TRUE(recorder.Entries().empty());
  testing::WriteFile(dir / "case.log", "x");
  ASSERT_EQ(recorder.Entries().size(), 1u);
  EXPECT_EQ(recorder.Entries()[0].path, "cases/X-001/case.log");
}

TEST(EvidenceTest, KindNamesRoundTrip) {
  for (EvidenceKind kind :
       {EvidenceKind::kPcap, EvidenceKind::kLog, EvidenceKind::kNote, EvidenceKind::kData}) {
    EXPECT_EQ(ParseEvidenceKind(EvidenceKindName(kind)), kind);
  }
  EXPECT_FALSE(ParseEvidenceKind("video").has_value());
}

}  // namespace
}  // namespace nsmcert::conformance
