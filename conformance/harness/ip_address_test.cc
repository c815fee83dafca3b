#include "conformance/harness/ip_address.h"

#include <gtest/gtest.h>

namespace nsmcert::harness {
namespace {

TEST(IpAddressTest, ParsesAndPrintsBothFamilies) {
  auto v4 = IpAddress::Parse("10.100.0.1");
  ASSERT_TRUE(v4.ok()) << v4.status();
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->ToString(), "10.100.0.1");
  auto v6 = IpAddress::Parse("fd00::0:1");
  ASSERT_TRUE(v6.ok()) << v6.status();
  EXPECT_FALSE(v6->is_v4());
  EXPECT_EQ(v6->ToString(), "fd00::1");
}

TEST(IpAddressTest, RejectsTextThatIsNoAddress) {
  for (const char* text : {"", "10.0.0", "10.0.0.256", "10.0.0.1/24", "node-a", "fd00::1::2"}) {
    auto address = IpAddress::Parse(text);
    EXPECT_EQ(address.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(IpPrefixTest, ContainsChecksFamilyAndPrefixBits) {
  auto prefix = IpPrefix::Parse("10.100.0.0/24");
  ASSERT_TRUE(prefix.ok()) << prefix.status();
  EXPECT_TRUE(prefix->IsNetworkAddress());
  EXPECT_TRUE(prefix->Contains(*IpAddress::Parse("10.100.0.7")));
  EXPECT_FALSE(prefix->Contains(*IpAddress::Parse("10.100.1.7")));
  EXPECT_FALSE(prefix->Contains(*IpAddress::Parse("::ffff:10.100.0.7")));
  EXPECT_EQ(prefix->Network().ToString(), "10.100.0.0");
  EXPECT_EQ(prefix->Last().ToString(), "10.100.0.255");
}

TEST(IpPrefixTest, HandlesOddLengthsAndIpv6) {
  auto prefix = IpPrefix::Parse("10.1.2.3/13");
  ASSERT_TRUE(prefix.ok());
  EXPECT_FALSE(prefix->IsNetworkAddress());
  EXPECT_EQ(prefix->Network().ToString(), "10.0.0.0");
  EXPECT_EQ(prefix->Last().ToString(), "10.7.255.255");
  auto v6 = IpPrefix::Parse("fd00:1::/64");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->Contains(*IpAddress::Parse("fd00:1::ffff")));
  EXPECT_FALSE(v6->Contains(*IpAddress::Parse("fd00:2::1")));
  EXPECT_EQ(v6->ToString(), "fd00:1::/64");
}

TEST(IpPrefixTest, RejectsMalformedPrefixes) {
  for (const char* text : {"10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/2x",
                           "fd00::/129", "x/8"}) {
    EXPECT_EQ(IpPrefix::Parse(text).status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

}  // namespace
}  // namespace nsmcert::harness
