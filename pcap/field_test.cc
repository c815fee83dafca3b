#include "pcap/field.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace nsmcert::pcap {
namespace {

TEST(PcapFieldTest, ValuesRenderByKind) {
  const uint8_t mac[6] = {0x02, 0, 0, 0xab, 0xcd, 0xef};
  const uint8_t ip4[4] = {10, 0, 0, 1};
  const uint8_t ip6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const uint8_t data[3] = {0x00, 0x7f, 0xff};
  EXPECT_EQ(FieldValue::Uint(2048).ToString(), "2048");
  EXPECT_EQ(FieldValue::Uint(2048).ToString(4), "0x0800");
  EXPECT_EQ(FieldValue::Mac(mac).ToString(), "02:00:00:ab:cd:ef");
  EXPECT_EQ(FieldValue::Ipv4(ip4).ToString(), "10.0.0.1");
  EXPECT_EQ(FieldValue::Ipv6(ip6).ToString(), "fd00::1");
  EXPECT_EQ(FieldValue::Bytes(data).ToString(), "007fff");
}

TEST(PcapFieldTest, EqualityNeedsSameKindAndContent) {
  const uint8_t ip4[4] = {10, 0, 0, 1};
  const uint8_t bytes[4] = {10, 0, 0, 1};
  EXPECT_EQ(FieldValue::Uint(5), FieldValue::Uint(5));
  EXPECT_FALSE(FieldValue::Uint(5) == FieldValue::Uint(6));
  EXPECT_FALSE(FieldValue::Ipv4(ip4) == FieldValue::Bytes(bytes));
}

TEST(PcapFieldTest, CatalogueNamesAreUniqueAndNestedNamesResolve) {
  std::set<std::string> names;
  for (const FieldSpec& spec : AllFieldSpecs()) {
    EXPECT_TRUE(names.insert(std::string(spec.name)).second) << spec.name;
  }
  EXPECT_EQ(BaseFieldName("inner.orig.ip.src"), "ip.src");
  EXPECT_EQ(BaseFieldName("inner.inner.udp.dstport"), "udp.dstport");
  ASSERT_NE(FindFieldSpec("inner.vxlan.vni"), nullptr);
  EXPECT_EQ(FindFieldSpec("inner.vxlan.vni")->kind, FieldKind::kUint);
  EXPECT_EQ(FindFieldSpec("ip.sorce"), nullptr);
  EXPECT_EQ(FindFieldSpec("outer.ip.src"), nullptr);
}

TEST(PcapFieldTest, FormatUsesTheFieldsDisplay) {
  EXPECT_EQ(FormatFieldValue("eth.type", FieldValue::Uint(0x86dd)), "0x86dd");
  EXPECT_EQ(FormatFieldValue("inner.ip.ttl", FieldValue::Uint(64)), "64");
  EXPECT_EQ(FormatFieldValue("tcp.flags", FieldValue::Uint(0x12)), "0x0012");
}

TEST(PcapFieldTest, ParsesTextByFieldKind) {
  EXPECT_EQ(ParseFieldValue("ip.ttl", "64").value(), FieldValue::Uint(64));
  EXPECT_EQ(ParseFieldValue("eth.type", "0x0800").value(), FieldValue::Uint(0x0800));
  EXPECT_EQ(ParseFieldValue("eth.type", "0X86DD").value(), FieldValue::Uint(0x86dd));
  EXPECT_EQ(ParseFieldValue("inner.eth.src", "02:00:00:AB:cd:ef").value().ToString(),
            "02:00:00:ab:cd:ef");
  EXPECT_EQ(ParseFieldValue("ip.dst", "192.168.1.2").value().ToString(), "192.168.1.2");
  EXPECT_EQ(ParseFieldValue("ipv6.src", "FD00:0::1").value().ToString(), "fd00::1");
  EXPECT_EQ(ParseFieldValue("data.data", "00:7f ff").value().ToString(), "007fff");
}

TEST(PcapFieldTest, ParseErrorsNameTheFieldAndText) {
  auto unknown = ParseFieldValue("ip.sorce", "10.0.0.1");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(unknown.status().message(), "unknown field 'ip.sorce'");
  auto bad_ip = ParseFieldValue("ip.src", "10.0.0.256");
  EXPECT_EQ(bad_ip.status().message(),
            "field 'ip.src' (IPv4 address): '10.0.0.256' is not an IPv4 address");
  EXPECT_FALSE(ParseFieldValue("ip.ttl", "").ok());
  EXPECT_FALSE(ParseFieldValue("ip.ttl", "-1").ok());
  EXPECT_FALSE(ParseFieldValue("ip.ttl", "64x").ok());
  EXPECT_FALSE(ParseFieldValue("ip.ttl", "0x").ok());
  EXPECT_FALSE(ParseFieldValue("eth.src", "02:00:00:00:00").ok());
  EXPECT_FALSE(ParseFieldValue("eth.src", "02:00:00:00:00:100").ok());
  EXPECT_FALSE(ParseFieldValue("eth.src", "02::00:00:00:00").ok());
  EXPECT_FALSE(ParseFieldValue("ipv6.dst", "10.0.0.1").ok());
  EXPECT_FALSE(ParseFieldValue("data.data", "abc").ok());
  EXPECT_FALSE(ParseFieldValue("data.data", "zz").ok());
}

}  // namespace
}  // namespace nsmcert::pcap
