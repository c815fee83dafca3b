#include "conformance/cases/features.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace nsmcert::conformance {
namespace {

TEST(FeaturesTest, SortedUniqueAndDescribed) {
  const auto features = KnownFeatures();
  ASSERT_FALSE(features.empty());
  for (std::size_t i = 0; i < features.size(); ++i) {
    EXPECT_FALSE(features[i].description.empty()) << features[i].name;
    if (i > 0) {
      EXPECT_LT(features[i - 1].name, features[i].name);
    }
  }
}

TEST(FeaturesTest, KnowsTheIssueVocabulary) {
  for (const char* name :
       {"mechanism.kernel", "mechanism.vxlan", "ipv6", "heal", "registry.expiry"}) {
    EXPECT_TRUE(IsKnownFeature(name)) << name;
  }
  EXPECT_FALSE(IsKnownFeature("mechanism.vxaln"));
  EXPECT_FALSE(IsKnownFeature(""));
}

}  // namespace
}  // namespace nsmcert::conformance
