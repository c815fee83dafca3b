#include "reference/sdk/tools/spiffe_id.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::HasSubstr;

TEST(SpiffeIdTest, ParsesKubernetesStyleId) {
  auto id = SpiffeId::Parse("spiffe://k8s.nsm/ns/nsm-system/pod/nsmgr-abc12");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->trust_domain(), "k8s.nsm");
  EXPECT_EQ(id->path(), "/ns/nsm-system/pod/nsmgr-abc12");
  EXPECT_EQ(id->ToString(), "spiffe://k8s.nsm/ns/nsm-system/pod/nsmgr-abc12");
}

TEST(SpiffeIdTest, TrustDomainOnly) {
  auto id = SpiffeId::Parse("spiffe://example.org");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->trust_domain(), "example.org");
  EXPECT_EQ(id->path(), "");
  EXPECT_EQ(id->ToString(), "spiffe://example.org");
}

TEST(SpiffeIdTest, PathsMayHaveMixedCaseAndDotsInsideSegments) {
  EXPECT_TRUE(SpiffeId::Parse("spiffe://test.com/Subject_1/a.b/-x-").ok());
  EXPECT_TRUE(SpiffeId::Parse("spiffe://test.com/subject").ok());
  EXPECT_TRUE(SpiffeId::Parse("spiffe://a_b-c.d9/...").ok());
}

TEST(SpiffeIdTest, Equality) {
  EXPECT_EQ(*SpiffeId::Parse("spiffe://a/b"), *SpiffeId::FromParts("a", "/b"));
  EXPECT_NE(*SpiffeId::Parse("spiffe://a/b"), *SpiffeId::Parse("spiffe://a/c"));
}

struct BadId {
  const char* text;
  const char* reason;
};

TEST(SpiffeIdTest, RejectsWithReason) {
  const BadId cases[] = {
      {"", "empty"},
      {"example.org/x", "scheme is missing or invalid"},
      {"SPIFFE://example.org/x", "scheme is missing or invalid"},
      {"https://example.org/x", "scheme is missing or invalid"},
      {"spiffe:/example.org", "scheme is missing or invalid"},
      {"spiffe://", "trust domain is missing"},
      {"spiffe:///path", "trust domain is missing"},
      {"spiffe://Example.org/x", "lowercase letters"},
      {"spiffe://example.org:8443/x", "lowercase letters"},
      {"spiffe://user@example.org/x", "lowercase letters"},
      {"spiffe://example.org/", "trailing slash"},
      {"spiffe://example.org/a/", "trailing slash"},
      {"spiffe://example.org//a", "empty segments"},
      {"spiffe://example.org/a/./b", "dot segments"},
      {"spiffe://example.org/..", "dot segments"},
      {"spiffe://example.org/a b", "segment characters"},
      {"spiffe://example.org/a?q=1", "segment characters"},
      {"spiffe://example.org/a#f", "segment characters"},
      {"spiffe://example.org/%41", "segment characters"},
  };
  for (const BadId& c : cases) {
    auto id = SpiffeId::Parse(c.text);
    EXPECT_FALSE(id.ok()) << "accepted \"" << c.text << "\"";
    if (!id.ok()) {
      EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(id.status().message(), HasSubstr(c.reason)) << c.text;
    }
  }
}

TEST(SpiffeIdTest, FromPartsValidates) {
  EXPECT_FALSE(SpiffeId::FromParts("", "/a").ok());
  EXPECT_FALSE(SpiffeId::FromParts("a", "b").ok());
  EXPECT_FALSE(SpiffeId::FromParts("a", "/b/").ok());
  EXPECT_TRUE(SpiffeId::FromParts("a", "").ok());
}

}  // namespace
}  // namespace nsmcert::sdk::tools
