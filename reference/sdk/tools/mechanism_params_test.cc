#include "reference/sdk/tools/mechanism_params.h"

#include <set>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

connection::Mechanism Vxlan(std::string src, std::string dst) {
  connection::Mechanism m;
  m.set_cls("REMOTE");
  m.set_type("VXLAN");
  if (!src.empty()) (*m.mutable_parameters())["src_ip"] = std::move(src);
  if (!dst.empty()) (*m.mutable_parameters())["dst_ip"] = std::move(dst);
  return m;
}

// Returns the given values in turn, then repeats the last.
std::function<uint32_t()> Sequence(std::vector<uint32_t> values) {
  auto state = std::make_shared<std::pair<std::vector<uint32_t>, size_t>>(std::move(values), 0);
  return [state] {
    auto& [v, i] = *state;
    return v[std::min(i++, v.size() - 1)];
  };
}

TEST(ParseVniTest, Range) {
  EXPECT_EQ(*ParseVni("1"), 1u);
  EXPECT_EQ(*ParseVni("16777215"), 16777215u);
  for (const char* bad : {"0", "16777216", "", "-1", "12a", " 5", "99999999999"}) {
    auto vni = ParseVni(bad);
    EXPECT_FALSE(vni.ok()) << bad;
    if (!vni.ok()) {
      EXPECT_THAT(vni.status().message(), HasSubstr("1..16777215"));
    }
  }
}

TEST(VniMustBeEvenTest, ParityRule) {
  EXPECT_TRUE(VniMustBeEven(Vxlan("10.0.0.1", "10.0.0.2")));
  EXPECT_TRUE(VniMustBeEven(Vxlan("10.0.0.1", "10.0.0.1")));
  EXPECT_FALSE(VniMustBeEven(Vxlan("10.0.0.2", "10.0.0.1")));
  // Byte-wise, not text-wise: 9.x < 10.x.
  EXPECT_TRUE(VniMustBeEven(Vxlan("9.0.0.1", "10.0.0.1")));
  // IPv4 compares in its ::ffff: form, below any global IPv6 address.
  EXPECT_TRUE(VniMustBeEven(Vxlan("10.0.0.1", "fd00::1")));
  EXPECT_FALSE(VniMustBeEven(Vxlan("fd00::2", "fd00::1")));
  // Unparseable source: even; unparseable destination: odd.
  EXPECT_TRUE(VniMustBeEven(Vxlan("", "10.0.0.1")));
  EXPECT_FALSE(VniMustBeEven(Vxlan("10.0.0.1", "")));
}

TEST(VniMustBeEvenTest, OriginalAddressesWin) {
  connection::Mechanism m = Vxlan("10.0.0.9", "10.0.0.1");  // would be odd
  (*m.mutable_parameters())["orig_src_ip"] = "192.168.0.1";
  (*m.mutable_parameters())["orig_dst_ip"] = "192.168.0.2";
  EXPECT_TRUE(VniMustBeEven(m));
  // Present but empty still takes precedence (and is unparseable: even).
  (*m.mutable_parameters())["orig_src_ip"] = "";
  EXPECT_TRUE(VniMustBeEven(m));
}

TEST(VniAllocatorTest, ChoosesParityAndRecordsIt) {
  VniAllocator allocator(Sequence({5, 7}));
  connection::Mechanism even = Vxlan("10.0.0.1", "10.0.0.2");
  auto vni = allocator.Assign(even);
  ASSERT_TRUE(vni.ok()) << vni.status();
  EXPECT_EQ(*vni, 10u);  // 2*5
  EXPECT_EQ(even.parameters().at("vni"), "10");

  connection::Mechanism odd = Vxlan("10.0.0.2", "10.0.0.1");
  auto odd_vni = allocator.Assign(odd);
  ASSERT_TRUE(odd_vni.ok());
  EXPECT_EQ(*odd_vni, 15u);  // 2*7+1
  EXPECT_EQ(allocator.size(), 2u);
}

TEST(VniAllocatorTest, UniquePerSourceAndSkipsZero) {
  // 0x800000 * 2 wraps to 0 in 24 bits: skipped. Then 5 twice: the second is taken, so 6.
  VniAllocator allocator(Sequence({0x800000, 5, 5, 6}));
  connection::Mechanism a = Vxlan("10.0.0.1", "10.0.0.2");
  connection::Mechanism b = Vxlan("10.0.0.1", "10.0.0.3");
  EXPECT_EQ(*allocator.Assign(a), 10u);
  EXPECT_EQ(*allocator.Assign(b), 12u);
  // Another source may reuse a VNI.
  VniAllocator other(Sequence({5}));
  connection::Mechanism c = Vxlan("10.0.0.7", "10.0.0.8");
  EXPECT_EQ(*other.Assign(c), 10u);
}

TEST(VniAllocatorTest, KeepsValidVniOnRefreshAndReleases) {
  VniAllocator allocator(Sequence({5, 6}));
  connection::Mechanism m = Vxlan("10.0.0.1", "10.0.0.2");
  (*m.mutable_parameters())["vni"] = "10";
  EXPECT_EQ(*allocator.Assign(m), 10u);  // kept, remembered
  connection::Mechanism fresh = Vxlan("10.0.0.1", "10.0.0.2");
  EXPECT_EQ(*allocator.Assign(fresh), 12u);  // 10 is in use, 2*6
  allocator.Release(m);
  EXPECT_EQ(allocator.size(), 1u);
  allocator.Release(Vxlan("junk", ""));  // ignored
  EXPECT_EQ(allocator.size(), 1u);
}

TEST(VniAllocatorTest, InvalidExistingVniIsReplaced) {
  VniAllocator allocator(Sequence({3}));
  connection::Mechanism m = Vxlan("10.0.0.1", "10.0.0.2");
  (*m.mutable_parameters())["vni"] = "0";
  EXPECT_EQ(*allocator.Assign(m), 6u);
  EXPECT_EQ(m.parameters().at("vni"), "6");
}

TEST(VniAllocatorTest, Errors) {
  VniAllocator allocator(Sequence({0}));
  connection::Mechanism no_src = Vxlan("", "10.0.0.2");
  EXPECT_THAT(allocator.Assign(no_src).status().message(), HasSubstr("src_ip"));
  connection::Mechanism no_dst = Vxlan("10.0.0.1", "");
  EXPECT_THAT(allocator.Assign(no_dst).status().message(), HasSubstr("dst_ip"));
  connection::Mechanism stuck = Vxlan("10.0.0.1", "10.0.0.2");
  EXPECT_EQ(allocator.Assign(stuck).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(VniAllocatorTest, RandomVnisAreValidAndDistinct) {
  VniAllocator allocator;
  std::set<uint32_t> seen;
  for (int i = 0; i < 500; ++i) {
    connection::Mechanism m = Vxlan("10.0.0.1", "10.0.0.2");
    auto vni = allocator.Assign(m);
    ASSERT_TRUE(vni.ok());
    EXPECT_EQ(*vni % 2, 0u);
    EXPECT_GE(*vni, 1u);
    EXPECT_LE(*vni, 0xFFFFFFu);
    EXPECT_TRUE(ParseVni(m.parameters().at("vni")).ok());
    seen.insert(*vni);
  }
  EXPECT_EQ(seen.size(), 500u);
}

TEST(MtuTest, TunnelArithmetic) {
  EXPECT_EQ(VxlanOverhead(IpFamily::kV4), 54u);
  EXPECT_EQ(VxlanOverhead(IpFamily::kV6), 74u);
  EXPECT_EQ(*TunnelMtu(1500, VxlanOverhead(IpFamily::kV4)), 1446u);
  EXPECT_EQ(*TunnelMtu(1500, VxlanOverhead(IpFamily::kV6)), 1426u);
  EXPECT_EQ(*TunnelMtu(9000, 54), 8946u);
  EXPECT_FALSE(TunnelMtu(100, 54).ok());
  EXPECT_FALSE(TunnelMtu(40, 54).ok());
  EXPECT_EQ(MinMtu(1446, 1500), 1446u);
  EXPECT_EQ(MinMtu(0, 1500), 1500u);
  EXPECT_EQ(MinMtu(1426, 0), 1426u);
  EXPECT_EQ(MinMtu(0, 0), 0u);
}

TEST(MtuTest, Parse) {
  EXPECT_EQ(*ParseMtu("1446"), 1446u);
  EXPECT_EQ(*ParseMtu("68"), 68u);
  EXPECT_EQ(*ParseMtu("65535"), 65535u);
  for (const char* bad : {"", "67", "0", "65536", "15OO", "-1"}) {
    EXPECT_FALSE(ParseMtu(bad).ok()) << bad;
  }
}

TEST(InterfaceNameTest, Validation) {
  EXPECT_TRUE(ValidateInterfaceName("nsm-1").ok());
  EXPECT_TRUE(ValidateInterfaceName("abcdefghijklmno").ok());  // 15
  EXPECT_TRUE(ValidateInterfaceName("a.b_c-d").ok());
  struct Case {
    std::string name;
    const char* reason;
  };
  for (const Case& c : std::initializer_list<Case>{{"", "empty"},
                                                   {"abcdefghijklmnop", "16 bytes"},
                                                   {".", "reserved"},
                                                   {"..", "reserved"},
                                                   {"a/b", "whitespace"},
                                                   {"a:b", "whitespace"},
                                                   {"a b", "whitespace"},
                                                   {"a\tb", "whitespace"},
                                                   {std::string("a\0b", 3), "whitespace"}}) {
    const absl::Status status = ValidateInterfaceName(c.name);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(status.message(), HasSubstr(c.reason)) << c.name;
  }
}

TEST(InterfaceNameTest, Generation) {
  const std::string name = GenerateInterfaceName("kernel2kernel-service");
  EXPECT_EQ(name.size(), 15u);
  EXPECT_EQ(name.substr(0, 11), "kernel2ker-");
  EXPECT_TRUE(ValidateInterfaceName(name).ok());

  const std::string short_name = GenerateInterfaceName("icmp");
  EXPECT_EQ(short_name.size(), 15u);
  EXPECT_EQ(short_name.substr(0, 5), "icmp-");

  const std::string odd = GenerateInterfaceName("a/b:c d@x");
  EXPECT_EQ(odd.substr(0, 10), "a-b-c-d-x-");
  EXPECT_TRUE(ValidateInterfaceName(odd).ok());

  EXPECT_EQ(GenerateInterfaceName("").substr(0, 4), "nsm-");

  std::set<std::string> names;
  for (int i = 0; i < 200; ++i) names.insert(GenerateInterfaceName("svc"));
  EXPECT_EQ(names.size(), 200u);
}

TEST(NsUrlTest, KernelWithInterfaceAndLabels) {
  auto url = ParseNsUrl("kernel://icmp-responder/nsm-1?color=red&app=a&color=blue");
  ASSERT_TRUE(url.ok()) << url.status();
  EXPECT_EQ(url->mechanism_type, "KERNEL");
  EXPECT_EQ(url->network_service, "icmp-responder");
  EXPECT_EQ(url->interface_name, "nsm-1");
  EXPECT_THAT(url->labels, UnorderedElementsAre(Pair("color", "red,blue"), Pair("app", "a")));
  const connection::Mechanism m = url->ToMechanism();
  EXPECT_EQ(m.cls(), "LOCAL");
  EXPECT_EQ(m.type(), "KERNEL");
  EXPECT_EQ(m.parameters().at("name"), "nsm-1");
}

TEST(NsUrlTest, UpstreamExamples) {
  auto vfio = ParseNsUrl("vfio://second-service?sriovToken=intel/10G");
  ASSERT_TRUE(vfio.ok()) << vfio.status();
  EXPECT_EQ(vfio->mechanism_type, "VFIO");
  EXPECT_EQ(vfio->network_service, "second-service");
  EXPECT_EQ(vfio->interface_name, "");
  EXPECT_TRUE(vfio->ToMechanism().parameters().empty());
  EXPECT_THAT(vfio->labels, UnorderedElementsAre(Pair("sriovToken", "intel/10G")));

  auto memif = ParseNsUrl("memif://my-vpp-service?A=1&B=2&C=3");
  ASSERT_TRUE(memif.ok());
  EXPECT_EQ(memif->labels.size(), 3u);

  auto interdomain = ParseNsUrl("kernel://my-service@dc.example.com/ms1");
  ASSERT_TRUE(interdomain.ok());
  EXPECT_EQ(interdomain->network_service, "my-service@dc.example.com");
  EXPECT_EQ(interdomain->interface_name, "ms1");

  auto nested = ParseNsUrl("kernel://svc/a/b");
  ASSERT_TRUE(nested.ok());
  EXPECT_EQ(nested->interface_name, "b");
}

TEST(NsUrlTest, Rejects) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c :
       std::initializer_list<Case>{{"kernel:///nsm-1", "no network service"},
                                   {"icmp-responder", "scheme"},
                                   {"kernel://svc/this-name-is-far-too-long", "bytes"},
                                   {"kernel://svc/nsm?x=%zz", "escape"},
                                   {"kernel://svc/nsm?a=1;b=2", "semicolon"}}) {
    auto url = ParseNsUrl(c.text);
    EXPECT_FALSE(url.ok()) << "accepted " << c.text;
    if (!url.ok()) {
      EXPECT_EQ(url.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(url.status().message(), HasSubstr(c.reason)) << c.text;
    }
  }
  // Long names are fine for mechanisms that are not kernel interfaces.
  EXPECT_TRUE(ParseNsUrl("memif://svc/a-long-socket-file-name").ok());
}

}  // namespace
}  // namespace nsmcert::sdk::tools
