#include "reference/kernel/ip.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::kernel {
namespace {

using ::testing::HasSubstr;

TEST(IpAddressTest, ParsesBothFamiliesAndFormatsCanonically) {
  absl::StatusOr<IpAddress> v4 = IpAddress::Parse("10.0.0.1");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->family, IpFamily::kV4);
  EXPECT_EQ(v4->ToString(), "10.0.0.1");
  absl::StatusOr<IpAddress> v6 = IpAddress::Parse("FD00:0:0::1");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->family, IpFamily::kV6);
  EXPECT_EQ(v6->ToString(), "fd00::1");
  absl::StatusOr<IpAddress> bad = IpAddress::Parse("10.0.0.256", "dst_ip");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("dst_ip"));
}

TEST(IpPrefixTest, ParsesKeepsHostBitsAndNormalises) {
  absl::StatusOr<IpPrefix> p = IpPrefix::Parse("10.1.2.3/16");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->ToString(), "10.1.2.3/16");
  EXPECT_EQ(p->Network().ToString(), "10.1.0.0/16");
  EXPECT_EQ(IpPrefix::Parse("fd00::1:2/100")->Network().ToString(), "fd00::/100");
  EXPECT_EQ(IpPrefix::Parse("10.1.2.3/0")->Network().ToString(), "0.0.0.0/0");
  EXPECT_EQ(IpPrefix::Parse("10.1.2.3/31")->Network().ToString(), "10.1.2.2/31");
}

TEST(IpPrefixTest, RejectsBadLengthsAndBareAddressesUnlessAllowed) {
  for (const char* bad : {"10.0.0.0/33", "fd00::/129", "10.0.0.0/", "10.0.0.0/x", "10.0.0.0/-1",
                          "10.0.0.0", "/24", ""}) {
    EXPECT_FALSE(IpPrefix::Parse(bad, "routes[0].prefix").ok()) << bad;
  }
  absl::StatusOr<IpPrefix> bare = IpPrefix::Parse("10.0.0.7", "from", /*allow_bare=*/true);
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->ToString(), "10.0.0.7/32");
  EXPECT_EQ(IpPrefix::Parse("fd00::7", "from", true)->length, 128);
}

TEST(IpPrefixTest, Containment) {
  IpPrefix net = *IpPrefix::Parse("169.254.0.0/16");
  EXPECT_TRUE(net.Contains(*IpAddress::Parse("169.254.10.1")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("169.255.0.1")));
  EXPECT_FALSE(net.Contains(*IpAddress::Parse("fd00::1")));
  EXPECT_TRUE(net.Contains(*IpPrefix::Parse("169.254.3.0/24")));
  EXPECT_FALSE(net.Contains(*IpPrefix::Parse("169.0.0.0/8")));
  EXPECT_TRUE(IpPrefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("1.2.3.4")));
  EXPECT_TRUE(IpPrefix::Parse("10.0.0.1/32")->Contains(*IpPrefix::Parse("10.0.0.1/32")));
}

}  // namespace
}  // namespace nsmcert::kernel
