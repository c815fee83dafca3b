#include "reference/sdk/tools/uuid.h"

#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

TEST(UuidTest, HasRfc4122Version4Shape) {
  for (int i = 0; i < 1000; ++i) {
    const std::string id = NewUuidV4();
    ASSERT_TRUE(IsUuidText(id)) << id;
    EXPECT_EQ(id[14], '4') << id;
    EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
    for (char c : id) EXPECT_FALSE(c >= 'A' && c <= 'Z') << id;
  }
}

TEST(UuidTest, UniqueAcrossThreads) {
  std::vector<std::vector<std::string>> per_thread(4);
  std::vector<std::thread> threads;
  for (auto& ids : per_thread) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 2000; ++i) ids.push_back(NewUuidV4());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (const auto& ids : per_thread) all.insert(ids.begin(), ids.end());
  EXPECT_EQ(all.size(), 8000u);
}

TEST(UuidTest, IsUuidTextRejectsOtherShapes) {
  EXPECT_TRUE(IsUuidText("0B5C9A9E-3F1D-4C6A-9D8E-2A7B1C4D5E6F"));
  EXPECT_FALSE(IsUuidText(""));
  EXPECT_FALSE(IsUuidText("nsc-0"));
  EXPECT_FALSE(IsUuidText("0b5c9a9e3f1d4c6a9d8e2a7b1c4d5e6f"));
  EXPECT_FALSE(IsUuidText("0b5c9a9e-3f1d-4c6a-9d8e-2a7b1c4d5e6g"));
  EXPECT_FALSE(IsUuidText("0b5c9a9e-3f1d-4c6a-9d8e_2a7b1c4d5e6f"));
}

}  // namespace
}  // namespace nsmcert::sdk::tools
