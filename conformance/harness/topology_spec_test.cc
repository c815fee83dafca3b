#include "conformance/harness/topology_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace nsmcert::harness {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kFixtureDir[] = NSMCERT_TOPOLOGY_DIR;

// A valid topology; tests patch one line at a time.
constexpr char kValid[] = R"(name: pair
fabric:
  underlay: 10.9.0.0/24
  mtu: 9000
nodes:
  - name: left
    address: 10.9.0.1
    workloads:
      - name: client
        role: nsc
  - name: right
    address: 10.9.0.2
)";

std::string ErrorOf(std::string_view yaml) {
  auto spec = ParseTopology(yaml, "t.yaml");
  if (spec.ok()) return "(parsed without error)";
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

TEST(TopologySpecTest, LoadsTheTwoNodeFixture) {
  const std::string path = std::string(kFixtureDir) + "/two-node.yaml";
  auto spec = LoadTopologyFile(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "two-node");
  EXPECT_EQ(spec->source, path);
  EXPECT_EQ(spec->fabric.underlay.ToString(), "10.100.0.0/24");
  EXPECT_EQ(spec->fabric.mtu, 1500);
  ASSERT_EQ(spec->nodes.size(), 2u);
  EXPECT_EQ(spec->nodes[0].name, "node-a");
  EXPECT_EQ(spec->nodes[0].address.ToString(), "10.100.0.1");
  EXPECT_EQ(spec->nodes[1].name, "node-b");
  EXPECT_EQ(spec->nodes[1].address.ToString(), "10.100.0.2");
  const NodeSpec* owner = nullptr;
  const WorkloadSpec* nsc = spec->FindWorkload("nsc-a", &owner);
  ASSERT_NE(nsc, nullptr);
  EXPECT_EQ(nsc->role, WorkloadRole::kNsc);
  EXPECT_EQ(owner, spec->FindNode("node-a"));
  ASSERT_NE(spec->FindWorkload("nse-b", &owner), nullptr);
  EXPECT_EQ(owner->name, "node-b");
  EXPECT_EQ(spec->FindNode("node-c"), nullptr);
  // Locations point into the file, 1-based.
  EXPECT_EQ(spec->nodes[1].address_location.ToString(), path + ":21:14");
}

TEST(TopologySpecTest, ParsesOptionalFieldsAndDefaults) {
  auto spec = ParseTopology(kValid, "dir/pair.yaml");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->fabric.mtu, 9000);
  EXPECT_TRUE(spec->nodes[1].workloads.empty());

  auto unnamed = ParseTopology(
      "fabric: {underlay: 'fd00:5::/64'}\nnodes: [{name: n1, address: 'fd00:5::1'}]\n",
      "dir/my-topo.yaml");
  ASSERT_TRUE(unnamed.ok()) << unnamed.status();
  EXPECT_EQ(unnamed->name, "my-topo");
  EXPECT_EQ(unnamed->fabric.mtu, 1500);
  EXPECT_EQ(unnamed->nodes[0].workloads.size(), 0u);
}

TEST(TopologySpecTest, SyntaxErrorsNameFileAndLine) {
  EXPECT_THAT(ErrorOf("fabric:\n  underlay: [10.0.0.0/24\nnodes: []\n"), StartsWith("t.yaml:3:"));
}

TEST(TopologySpecTest, MissingFileIsNotFound) {
  auto spec = LoadTopologyFile("/nonexistent/topology.yaml");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(spec.status().message(), HasSubstr("/nonexistent/topology.yaml"));
}

TEST(TopologySpecTest, ShapeErrorsPointAtTheOffendingKey) {
  EXPECT_EQ(ErrorOf(""), "t.yaml: empty topology: expected a map with fabric and nodes");
  EXPECT_EQ(ErrorOf("- a\n- b\n"), "t.yaml:1:1: must be a map with keys name, fabric, nodes");
  EXPECT_EQ(ErrorOf("nodes: []\n"), "t.yaml:1:1: missing required key \"fabric\"");
  EXPECT_EQ(ErrorOf(std::string(kValid) + "extra: 1\n"),
            "t.yaml:13:1: unknown key \"extra\" (expected one of: name, fabric, nodes)");
  EXPECT_EQ(ErrorOf(std::string(kValid) + "name: again\n"), "t.yaml:13:1: duplicate key \"name\"");
  std::string typo = kValid;
  typo.replace(typo.find("    address: 10.9.0.2"), 21, "    adress: 10.9.0.2");
  EXPECT_EQ(ErrorOf(typo),
            "t.yaml:12:5: nodes[1]: unknown key \"adress\" (expected one of: name, address, "
            "workloads)");
  std::string no_address = kValid;
  no_address.replace(no_address.find("    address: 10.9.0.2\n"), 22, "");
  EXPECT_EQ(ErrorOf(no_address), "t.yaml:11:5: nodes[1]: missing required key \"address\"");
  EXPECT_EQ(ErrorOf("fabric: {underlay: 10.0.0.0/24}\nnodes: {a: 1}\n"),
            "t.yaml:2:8: nodes: must be a list of nodes");
  std::string bad_role = kValid;
  bad_role.replace(bad_role.find("role: nsc"), 9, "role: router");
  EXPECT_EQ(ErrorOf(bad_role),
            "t.yaml:10:15: nodes[0].workloads[0].role: unknown role \"router\" (expected nsc or "
            "nse)");
  std::string list_name = kValid;
  list_name.replace(list_name.find("name: left"), 10, "name: [left]");
  EXPECT_EQ(ErrorOf(list_name), "t.yaml:6:11: nodes[0].name: must be a single value");
}

TEST(TopologySpecTest, AddressErrorsNameTheSubnet) {
  std::string outside = kValid;
  outside.replace(outside.find("10.9.0.2"), 8, "10.8.0.2");
  EXPECT_EQ(ErrorOf(outside),
            "t.yaml:12:14: nodes[1].address: 10.8.0.2 is outside the underlay subnet 10.9.0.0/24");
  std::string duplicate = kValid;
  duplicate.replace(duplicate.find("10.9.0.2"), 8, "10.9.0.1");
  EXPECT_EQ(ErrorOf(duplicate),
            "t.yaml:12:14: nodes[1].address: 10.9.0.1 is already used by nodes[0].address");
  std::string network = kValid;
  network.replace(network.find("10.9.0.2"), 8, "10.9.0.0");
  EXPECT_THAT(ErrorOf(network), HasSubstr("is the network address of 10.9.0.0/24"));
  std::string broadcast = kValid;
  broadcast.replace(broadcast.find("10.9.0.2"), 8, "10.9.0.255");
  EXPECT_THAT(ErrorOf(broadcast), HasSubstr("is the broadcast address of 10.9.0.0/24"));
  std::string not_an_address = kValid;
  not_an_address.replace(not_an_address.find("10.9.0.2"), 8, "node-b");
  EXPECT_EQ(ErrorOf(not_an_address),
            "t.yaml:12:14: nodes[1].address: \"node-b\" is not an IPv4 or IPv6 address");
  std::string v6_node = kValid;
  v6_node.replace(v6_node.find("10.9.0.2"), 8, "fd00::2");
  EXPECT_THAT(ErrorOf(v6_node), HasSubstr("fd00::2 is outside the underlay subnet"));
}

TEST(TopologySpecTest, FabricErrors) {
  std::string host_bits = kValid;
  host_bits.replace(host_bits.find("10.9.0.0/24"), 11, "10.9.0.5/24");
  EXPECT_EQ(ErrorOf(host_bits),
            "t.yaml:3:13: fabric.underlay: 10.9.0.5/24 has host bits set; did you mean "
            "10.9.0.0/24?");
  std::string tiny = kValid;
  tiny.replace(tiny.find("10.9.0.0/24"), 11, "10.9.0.0/31");
  EXPECT_THAT(ErrorOf(tiny), HasSubstr("use a prefix of /30 or shorter"));
  std::string bad_prefix = kValid;
  bad_prefix.replace(bad_prefix.find("10.9.0.0/24"), 11, "10.9.0.0/40");
  EXPECT_EQ(ErrorOf(bad_prefix),
            "t.yaml:3:13: fabric.underlay: \"10.9.0.0/40\" has a bad prefix length (want 0..32)");
  std::string mtu = kValid;
  mtu.replace(mtu.find("mtu: 9000"), 9, "mtu: 100");
  EXPECT_EQ(ErrorOf(mtu), "t.yaml:4:8: fabric.mtu: 100 is outside 1280..65535");
  std::string mtu_text = kValid;
  mtu_text.replace(mtu_text.find("mtu: 9000"), 9, "mtu: big");
  EXPECT_EQ(ErrorOf(mtu_text), "t.yaml:4:8: fabric.mtu: \"big\" is not a whole number");
  EXPECT_EQ(ErrorOf("fabric: {underlay: 10.0.0.0/24}\nnodes: []\n"),
            "t.yaml:1:1: nodes: at least one node is required");
}

TEST(TopologySpecTest, NameRules) {
  // A node name of 12 bytes fits "ul-<node>" in 15 bytes; 13 does not.
  std::string fits = kValid;
  fits.replace(fits.find("name: left"), 10, "name: abcdefghijkl");
  EXPECT_TRUE(ParseTopology(fits, "t.yaml").ok());
  std::string too_long = kValid;
  too_long.replace(too_long.find("name: left"), 10, "name: abcdefghijklm");
  EXPECT_EQ(ErrorOf(too_long),
            "t.yaml:6:11: nodes[0].name: \"abcdefghijklm\" is 13 bytes; at most 12 allowed (its "
            "fabric link \"ul-<node>\" must fit 15 bytes)");
  std::string upper = kValid;
  upper.replace(upper.find("name: left"), 10, "name: Left");
  EXPECT_THAT(ErrorOf(upper), HasSubstr("nodes[0].name: \"Left\" must start with a lowercase"));
  std::string underscore = kValid;
  underscore.replace(underscore.find("name: left"), 10, "name: le_ft");
  EXPECT_THAT(ErrorOf(underscore), HasSubstr("may hold only a-z, 0-9 and '-'"));
  std::string dash = kValid;
  dash.replace(dash.find("name: left"), 10, "name: left-");
  EXPECT_THAT(ErrorOf(dash), HasSubstr("must not end with '-'"));
  std::string clash = kValid;
  clash.replace(clash.find("name: client"), 12, "name: right");
  EXPECT_EQ(ErrorOf(clash),
            "t.yaml:11:11: nodes[1].name: \"right\" is already used by "
            "nodes[0].workloads[0].name");
  std::string reserved = kValid;
  reserved.replace(reserved.find("name: client"), 12, "name: fabric");
  EXPECT_EQ(ErrorOf(reserved),
            "t.yaml:9:15: nodes[0].workloads[0].name: \"fabric\" is already used by the fabric "
            "namespace (reserved)");
  std::string long_workload = kValid;
  long_workload.replace(long_workload.find("name: client"), 12,
                        "name: " + std::string(kMaxWorkloadNameLength + 1, 'w'));
  EXPECT_THAT(ErrorOf(long_workload), HasSubstr("is 33 bytes; at most 32 allowed"));
  std::string topology_name = kValid;
  topology_name.replace(0, 10, "name: Pair");
  EXPECT_THAT(ErrorOf(topology_name), HasSubstr("name: \"Pair\" must start with a lowercase"));
}

TEST(TopologySpecTest, ValidatesSpecsBuiltInCode) {
  TopologySpec spec;
  spec.name = "coded";
  spec.fabric.underlay = *kernel::IpPrefix::Parse("10.1.0.0/16");
  NodeSpec node;
  node.name = "n1";
  node.address = *kernel::IpAddress::Parse("10.1.0.1");
  spec.nodes.push_back(node);
  EXPECT_TRUE(ValidateTopology(spec).ok());
  node.address = *kernel::IpAddress::Parse("10.2.0.1");
  spec.nodes.push_back(node);
  EXPECT_EQ(ValidateTopology(spec).message(),
            "nodes[1].name: \"n1\" is already used by nodes[0].name");
  EXPECT_EQ(FabricLinkName("node-a"), "ul-node-a");
}

}  // namespace
}  // namespace nsmcert::harness
