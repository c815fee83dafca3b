#include "reference/sdk/tools/registry_path.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string TokenFor(std::string_view id) {
  Hs256TokenSigner signer(*SpiffeId::Parse(id), "secret");
  return signer.Sign("")->value;
}

TEST(RegistryPathJsonTest, FormatsLikeGo) {
  EXPECT_EQ(FormatRegistryPathJson({1, {"a.b.c", "d.e.f"}}),
            R"({"Index":1,"PathSegments":[{"token":"a.b.c"},{"token":"d.e.f"}]})");
  EXPECT_EQ(FormatRegistryPathJson({}), R"({"Index":0,"PathSegments":null})");
}

TEST(RegistryPathJsonTest, RoundTrip) {
  const RegistryPath path{2, {"x", "y", "z"}};
  auto parsed = ParseRegistryPathJson(FormatRegistryPathJson(path));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, path);
}

TEST(RegistryPathJsonTest, LenientInput) {
  // Go matches keys case-insensitively and ignores unknown ones, including the older segment form.
  auto old_form = ParseRegistryPathJson(
      R"({"index":1,"pathsegments":[{"Name":"nse","ID":"1","Token":"t0",)"
      R"("Expires":"2026-11-26T14:03:05Z"},{"token":"t1","extra":true}],"other":3})");
  ASSERT_TRUE(old_form.ok()) << old_form.status();
  EXPECT_EQ(old_form->index, 1u);
  EXPECT_THAT(old_form->tokens, ElementsAre("t0", "t1"));

  auto empty = ParseRegistryPathJson("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, RegistryPath{});

  auto nulls = ParseRegistryPathJson(R"({"Index":null,"PathSegments":[null,{}]})");
  ASSERT_TRUE(nulls.ok()) << nulls.status();
  EXPECT_THAT(nulls->tokens, ElementsAre("", ""));
}

TEST(RegistryPathJsonTest, RejectsMalformed) {
  for (const char* text : {"", "nope", "[]", R"({"Index":-1})", R"({"Index":1.5})",
                           R"({"Index":"1"})", R"({"Index":4294967296})", R"({"PathSegments":{}})",
                           R"({"PathSegments":[1]})", R"({"PathSegments":[{"token":5}]})"}) {
    auto path = ParseRegistryPathJson(text);
    EXPECT_FALSE(path.ok()) << "accepted " << text;
    if (!path.ok()) {
      EXPECT_EQ(path.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(path.status().message(), HasSubstr("registry path"));
    }
  }
}

// NSE -> nsmgr -> registry, as in spec §8.5 and scenario A.1.
TEST(UpdateRegistryPathTest, FirstRegistrationThroughNsmgrToRegistry) {
  RegistryPath path;  // the NSE sends an empty path
  auto nsmgr_caller = UpdateRegistryPath(path, "nse-token", "nsmgr-token");
  ASSERT_TRUE(nsmgr_caller.ok()) << nsmgr_caller.status();
  EXPECT_EQ(*nsmgr_caller, 0u);
  EXPECT_EQ(path, (RegistryPath{1, {"nse-token", "nsmgr-token"}}));

  // The nsmgr's client forwards the path; the registry hop sees the nsmgr's per-RPC token.
  auto registry_caller = UpdateRegistryPath(path, "nsmgr-rpc-token", "registry-token");
  ASSERT_TRUE(registry_caller.ok());
  EXPECT_EQ(*registry_caller, 1u);
  EXPECT_EQ(path, (RegistryPath{2, {"nse-token", "nsmgr-rpc-token", "registry-token"}}));

  // Each hop restores the index before replying.
  path.index = *registry_caller;
  EXPECT_EQ(FormatRegistryPathJson(path),
            R"({"Index":1,"PathSegments":[{"token":"nse-token"},{"token":"nsmgr-rpc-token"},)"
            R"({"token":"registry-token"}]})");
}

TEST(UpdateRegistryPathTest, RefreshOverwritesTokens) {
  RegistryPath path{0, {"old-nse", "old-nsmgr", "old-registry"}};
  auto caller = UpdateRegistryPath(path, "new-nse", "new-nsmgr");
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(*caller, 0u);
  EXPECT_EQ(path, (RegistryPath{1, {"new-nse", "new-nsmgr", "old-registry"}}));
}

TEST(UpdateRegistryPathTest, RejectsIndexBeyondPath) {
  RegistryPath path{2, {"a", "b"}};
  auto caller = UpdateRegistryPath(path, "p", "o");
  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(path, (RegistryPath{2, {"a", "b"}}));
}

TEST(SetPathIdTest, OverwritesOrAppends) {
  google::protobuf::RepeatedPtrField<std::string> ids;
  SetPathId(ids, 0, "a");
  SetPathId(ids, 5, "b");  // appended, not padded
  SetPathId(ids, 0, "c");
  EXPECT_THAT(ids, ElementsAre("c", "b"));
}

TEST(UpdatePathIdsTest, NseThroughNsmgrToRegistry) {
  const std::string nse = TokenFor("spiffe://example.org/nse");
  const std::string nsmgr = TokenFor("spiffe://example.org/nsmgr");
  const std::string registry = TokenFor("spiffe://example.org/registry");

  google::protobuf::RepeatedPtrField<std::string> path_ids;
  RegistryPath path;
  ASSERT_TRUE(UpdateRegistryPath(path, nse, nsmgr).ok());
  ASSERT_TRUE(UpdatePathIds(path_ids, path, nse, nsmgr).ok());
  ASSERT_TRUE(UpdateRegistryPath(path, nsmgr, registry).ok());
  ASSERT_TRUE(UpdatePathIds(path_ids, path, nsmgr, registry).ok());
  EXPECT_THAT(path_ids, ElementsAre("spiffe://example.org/nse", "spiffe://example.org/nsmgr",
                                    "spiffe://example.org/registry"));
}

TEST(UpdatePathIdsTest, PeerWithoutSpiffeIdWritesEmpty) {
  google::protobuf::RepeatedPtrField<std::string> path_ids;
  RegistryPath path;
  const std::string own = TokenFor("spiffe://example.org/nsmgr");
  ASSERT_TRUE(UpdateRegistryPath(path, "", own).ok());
  ASSERT_TRUE(UpdatePathIds(path_ids, path, "", own).ok());
  EXPECT_THAT(path_ids, ElementsAre("", "spiffe://example.org/nsmgr"));
}

TEST(UpdatePathIdsTest, OwnTokenMustCarrySpiffeSubject) {
  google::protobuf::RepeatedPtrField<std::string> path_ids;
  RegistryPath path;
  ASSERT_TRUE(UpdateRegistryPath(path, "peer", "TestToken").ok());
  const absl::Status status = UpdatePathIds(path_ids, path, "peer", "TestToken");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("own registry token"));
  EXPECT_TRUE(path_ids.empty());
  EXPECT_FALSE(UpdatePathIds(path_ids, RegistryPath{}, "peer", "own").ok());
}

}  // namespace
}  // namespace nsmcert::sdk::tools
