#include "reference/sdk/tools/labels.h"

#include <stdlib.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(ParseColonLabelsTest, EnvconfigMapSyntax) {
  EXPECT_THAT(*ParseColonLabels("p2p:true"), ElementsAre(Pair("p2p", "true")));
  EXPECT_THAT(*ParseColonLabels("app:icmp,color:blue"),
              ElementsAre(Pair("app", "icmp"), Pair("color", "blue")));
  EXPECT_THAT(*ParseColonLabels(""), IsEmpty());
  EXPECT_THAT(*ParseColonLabels("   "), IsEmpty());
  EXPECT_THAT(*ParseColonLabels(" \t\n"), IsEmpty());
  // Verbatim, like envconfig: no trimming; empty keys and values are kept; last one wins.
  EXPECT_THAT(*ParseColonLabels("a: b ,:x,c:,a:z"),
              ElementsAre(Pair("", "x"), Pair("a", "z"), Pair("c", "")));
}

TEST(ParseColonLabelsTest, RejectsItemsThatAreNotOnePair) {
  for (const char* text : {"a", "a:b,c", "a:b:c", "url:http://x", "a:b,", ",a:b"}) {
    auto labels = ParseColonLabels(text);
    EXPECT_FALSE(labels.ok()) << "accepted " << text;
    if (!labels.ok()) {
      EXPECT_EQ(labels.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(labels.status().message(), HasSubstr("key:value"));
    }
  }
}

TEST(ParseEqualsLabelsTest, NscSyntax) {
  EXPECT_THAT(*ParseEqualsLabels("key1=val1, key2 = val2"),
              ElementsAre(Pair("key1", "val1"), Pair("key2", "val2")));
  EXPECT_THAT(*ParseEqualsLabels(""), IsEmpty());
  EXPECT_THAT(*ParseEqualsLabels("a="), ElementsAre(Pair("a", "")));
  for (const char* text : {"a", "a=b=c", "=b", "a=b,,c=d"}) {
    EXPECT_FALSE(ParseEqualsLabels(text).ok()) << text;
  }
}

TEST(AddClientInfoTest, AddsOnlyMissingLabelsFromSetVariables) {
  google::protobuf::Map<std::string, std::string> labels;
  labels["podName"] = "kept";
  AddClientInfo(labels, FakeEnv({{"NODE_NAME", "node-1"}, {"POD_NAME", "pod-1"}}));
  EXPECT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels.at("nodeName"), "node-1");
  EXPECT_EQ(labels.at("podName"), "kept");
  EXPECT_FALSE(labels.contains("clusterName"));
}

TEST(AddClientInfoTest, EmptyValueCountsAsSet) {
  std::map<std::string, std::string> labels;
  AddClientInfo(labels, FakeEnv({{"CLUSTER_NAME", ""}}));
  EXPECT_THAT(labels, UnorderedElementsAre(Pair("clusterName", "")));
}

TEST(AddClientInfoTest, ReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("NODE_NAME", "from-env", 1), 0);
  unsetenv("POD_NAME");
  unsetenv("CLUSTER_NAME");
  std::map<std::string, std::string> labels;
  AddClientInfo(labels);
  unsetenv("NODE_NAME");
  EXPECT_THAT(labels, UnorderedElementsAre(Pair("nodeName", "from-env")));
  EXPECT_EQ(ProcessEnv("NSMCERT_SURELY_UNSET_VARIABLE"), std::nullopt);
}

}  // namespace
}  // namespace nsmcert::sdk::tools
