#include "reference/sdk/tools/cidr.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(std::string_view text) {
  auto ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.ok()) << text << ": " << ip.status();
  return *ip;
}

Cidr Net(std::string_view text) {
  auto cidr = Cidr::Parse(text);
  EXPECT_TRUE(cidr.ok()) << text << ": " << cidr.status();
  return *cidr;
}

TEST(IpAddressTest, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(Ip("172.16.1.100").ToString(), "172.16.1.100");
  EXPECT_EQ(Ip("172.16.1.100").family(), IpFamily::kV4);
  EXPECT_EQ(Ip("172.16.1.100").value(), absl::uint128(0xAC100164));
  EXPECT_EQ(Ip("FD00:0:0::1").ToString(), "fd00::1");
  EXPECT_EQ(Ip("fd00::1").family(), IpFamily::kV6);
  EXPECT_EQ(Ip("::").ToString(), "::");
  EXPECT_EQ(Ip("::ffff:1.2.3.4").family(), IpFamily::kV6);
}

TEST(IpAddressTest, RejectsBadText) {
  for (const char* text : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", " 1.2.3.4",
                           "1.2.3.4 ", "fe80::1%eth0", "::g", "1.2.3.4/32", "host"}) {
    auto ip = IpAddress::Parse(text);
    EXPECT_FALSE(ip.ok()) << "accepted \"" << text << "\"";
    if (!ip.ok()) {
      EXPECT_EQ(ip.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(IpAddressTest, ParseWithOptionalPrefix) {
  EXPECT_EQ(*IpAddress::ParseWithOptionalPrefix("10.0.0.1/32"), Ip("10.0.0.1"));
  EXPECT_EQ(*IpAddress::ParseWithOptionalPrefix("10.0.0.1"), Ip("10.0.0.1"));
  EXPECT_FALSE(IpAddress::ParseWithOptionalPrefix("10.0.0.1/33").ok());
}

TEST(IpAddressTest, Bytes16IsGoForm) {
  const std::array<uint8_t, 16> v4 = Ip("10.1.2.3").Bytes16();
  const std::array<uint8_t, 16> expected_v4 = {0, 0, 0,    0,    0,  0, 0, 0,
                                               0, 0, 0xff, 0xff, 10, 1, 2, 3};
  EXPECT_EQ(v4, expected_v4);
  const std::array<uint8_t, 16> v6 = Ip("fd00::102").Bytes16();
  EXPECT_EQ(v6[0], 0xfd);
  EXPECT_EQ(v6[14], 1);
  EXPECT_EQ(v6[15], 2);
}

TEST(IpAddressTest, OrderingAndValues) {
  EXPECT_LT(Ip("10.0.0.1"), Ip("10.0.0.2"));
  EXPECT_LT(Ip("255.255.255.255"), Ip("::"));
  EXPECT_EQ(IpAddress::FromValue(IpFamily::kV4, absl::uint128(0x1'0000'0001)), Ip("0.0.0.1"));
  EXPECT_EQ(IpAddress::FromValue(IpFamily::kV6, 1).ToString(), "::1");
}

TEST(CidrTest, ParsesAndMasks) {
  const Cidr c = Net("172.16.1.101/31");
  EXPECT_EQ(c.address(), Ip("172.16.1.101"));
  EXPECT_EQ(c.prefix_length(), 31);
  EXPECT_EQ(c.network(), Ip("172.16.1.100"));
  EXPECT_EQ(c.last(), Ip("172.16.1.101"));
  EXPECT_EQ(c.ToString(), "172.16.1.101/31");
  EXPECT_EQ(c.Masked().ToString(), "172.16.1.100/31");
  EXPECT_EQ(Net("169.254.0.0/16").last(), Ip("169.254.255.255"));
  EXPECT_EQ(Net("0.0.0.0/0").last(), Ip("255.255.255.255"));
  EXPECT_EQ(Net("::/0").last().ToString(), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
  EXPECT_EQ(Net("fd00::5/126").network().ToString(), "fd00::4");
  EXPECT_EQ(Cidr::Host(Ip("fd00::1")).ToString(), "fd00::1/128");
  EXPECT_EQ(Cidr::Host(Ip("10.0.0.1")).ToString(), "10.0.0.1/32");
}

TEST(CidrTest, Contains) {
  const Cidr pool = Net("172.16.1.0/29");
  EXPECT_TRUE(pool.Contains(Ip("172.16.1.0")));
  EXPECT_TRUE(pool.Contains(Ip("172.16.1.7")));
  EXPECT_FALSE(pool.Contains(Ip("172.16.1.8")));
  EXPECT_FALSE(pool.Contains(Ip("::ffff:172.16.1.1")));
  EXPECT_TRUE(pool.Contains(Net("172.16.1.4/30")));
  EXPECT_FALSE(pool.Contains(Net("172.16.1.0/28")));
  EXPECT_TRUE(Net("0.0.0.0/0").Contains(Ip("8.8.8.8")));
  EXPECT_TRUE(Net("fd00::/64").Contains(Ip("fd00::ffff")));
  EXPECT_FALSE(Net("fd00::/64").Contains(Ip("fd00:0:0:1::")));
}

TEST(CidrTest, RejectsWithClearErrors) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c : std::initializer_list<Case>{{"10.0.0.0", "no /prefix-length"},
                                                   {"10.0.0.0/", "not a decimal"},
                                                   {"10.0.0.0/33", "exceeds 32"},
                                                   {"fd00::/129", "exceeds 128"},
                                                   {"10.0.0.0/-1", "not a decimal"},
                                                   {"10.0.0.0/08", "not a decimal"},
                                                   {"10.0.0.0/8a", "not a decimal"},
                                                   {"10.0.0/8", "not an IP address"},
                                                   {"/8", "not an IP address"},
                                                   {"172.16.1./24", "not an IP address"}}) {
    auto cidr = Cidr::Parse(c.text);
    EXPECT_FALSE(cidr.ok()) << "accepted " << c.text;
    if (!cidr.ok()) {
      EXPECT_EQ(cidr.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(cidr.status().message(), HasSubstr(c.reason)) << c.text;
      EXPECT_THAT(cidr.status().message(), HasSubstr(c.text));
    }
  }
}

std::vector<std::vector<std::string>> Groups(std::string_view text) {
  auto groups = ParseCidrGroups(text);
  EXPECT_TRUE(groups.ok()) << text << ": " << groups.status();
  std::vector<std::vector<std::string>> out;
  for (const auto& group : groups.value_or(std::vector<std::vector<Cidr>>{})) {
    out.emplace_back();
    for (const Cidr& c : group) out.back().push_back(c.ToString());
  }
  return out;
}

TEST(ParseCidrGroupsTest, UpstreamExamples) {
  using G = std::vector<std::vector<std::string>>;
  EXPECT_EQ(Groups(""), G{});
  EXPECT_EQ(Groups("169.254.0.0/16"), (G{{"169.254.0.0/16"}}));
  EXPECT_EQ(Groups("[172.168.1.0/24], [172.168.1.0/24, 172.168.2.0/24], 172.168.1.0/24, "
                   "[172.168.1.0/24, 172.168.2.0/24 , 172.168.3.0/24]"),
            (G{{"172.168.1.0/24"},
               {"172.168.1.0/24", "172.168.2.0/24"},
               {"172.168.1.0/24"},
               {"172.168.1.0/24", "172.168.2.0/24", "172.168.3.0/24"}}));
  // Dual stack: one allocator per group.
  EXPECT_EQ(Groups("172.16.1.100/31,fd00::/127"), (G{{"172.16.1.100/31"}, {"fd00::/127"}}));
  // Prefixes are masked as Go's net.ParseCIDR returns them.
  EXPECT_EQ(Groups("172.16.1.101/31"), (G{{"172.16.1.100/31"}}));
}

TEST(ParseCidrGroupsTest, UpstreamRejections) {
  const std::string c = "172.168.1.0/24";
  for (const std::string& text : std::vector<std::string>{
           "[" + c + ", " + c + "], [[" + c + "],,[" + c + "]", "[" + c + ", " + c,
           "[" + c + ", " + c + "],", "[" + c + ", " + c + "][" + c + "]",
           "[" + c + ", " + c + "],[]", "[" + c + ",, " + c + "]",
           std::string("[172.168.1./24, 172.168.1./24]"), c + ",", "," + c, "]" + c, c + "]",
           "[]"}) {
    auto groups = ParseCidrGroups(text);
    EXPECT_FALSE(groups.ok()) << "accepted " << text;
    if (!groups.ok()) {
      EXPECT_EQ(groups.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(groups.status().message(), HasSubstr("CIDR groups"));
    }
  }
}

}  // namespace
}  // namespace nsmcert::sdk::tools
