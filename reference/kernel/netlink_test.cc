#include "reference/kernel/netlink.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "reference/kernel/testing.h"

namespace nsmcert::kernel {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestNetNs;

// ---- without root ----

TEST(IfNameTest, EnforcesLinuxLimits) {
  EXPECT_TRUE(ValidateIfName("nsm-0123456789a").ok());  // exactly 15
  absl::Status too_long = ValidateIfName("nsm-0123456789ab", "mechanism name");
  EXPECT_EQ(too_long.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(too_long.message()), HasSubstr("mechanism name"));
  EXPECT_THAT(std::string(too_long.message()), HasSubstr("16 bytes"));
  EXPECT_FALSE(ValidateIfName("").ok());
  EXPECT_FALSE(ValidateIfName("a/b").ok());
  EXPECT_FALSE(ValidateIfName("a:b").ok());
  EXPECT_FALSE(ValidateIfName("a b").ok());
  EXPECT_FALSE(ValidateIfName("..").ok());
}

TEST(PortRangeTest, ParsesSingleAndRange) {
  EXPECT_EQ(*ParsePortRange("", "p"), (PortRange{0, 0}));
  EXPECT_EQ(*ParsePortRange("80", "p"), (PortRange{80, 80}));
  EXPECT_EQ(*ParsePortRange("8000-8080", "p"), (PortRange{8000, 8080}));
  for (const char* bad : {"0", "65536", "90-80", "a", "80-", "-80", "1-2-3"}) {
    absl::StatusOr<PortRange> r = ParsePortRange(bad, "policies[0].dst_port");
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("policies[0].dst_port")) << bad;
  }
}

TEST(VxlanSpecTest, ValidatesFields) {
  VxlanSpec ok;
  ok.name = "vx0";
  ok.vni = 42;
  ok.local_ip = "10.0.0.1";
  ok.remote_ip = "10.0.0.2";
  EXPECT_TRUE(ValidateVxlanSpec(ok).ok());
  VxlanSpec bad = ok;
  bad.vni = 1 << 24;
  EXPECT_THAT(std::string(ValidateVxlanSpec(bad).message()), HasSubstr("VNI"));
  bad = ok;
  bad.vni = 0;
  EXPECT_FALSE(ValidateVxlanSpec(bad).ok());
  bad = ok;
  bad.remote_ip = "fd00::2";
  EXPECT_THAT(std::string(ValidateVxlanSpec(bad).message()), HasSubstr("family"));
  bad = ok;
  bad.name = "a-very-long-vxlan-name";
  EXPECT_THAT(std::string(ValidateVxlanSpec(bad).message()), HasSubstr("vxlan name"));
}

RouteSpec Route(std::string prefix, std::string via, std::string device,
                std::uint32_t table = kMainTable, bool onlink = false, std::string src = "") {
  RouteSpec r;
  r.prefix = std::move(prefix);
  r.via = std::move(via);
  r.device = std::move(device);
  r.table = table;
  r.onlink = onlink;
  r.src = std::move(src);
  return r;
}

// ---- privileged ----

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    absl::StatusOr<TestNetNs> a = TestNetNs::Create("nsk-nl-a");
    ASSERT_TRUE(a.ok()) << a.status();
    a_.emplace(*std::move(a));
    absl::StatusOr<TestNetNs> b = TestNetNs::Create("nsk-nl-b");
    ASSERT_TRUE(b.ok()) << b.status();
    b_.emplace(*std::move(b));
  }
  TestNetNs& a() { return *a_; }
  TestNetNs& b() { return *b_; }

  static std::vector<std::string> Names(Netlink& nl) {
    std::vector<std::string> names;
    absl::StatusOr<std::vector<LinkInfo>> links = nl.ListLinks();
    EXPECT_TRUE(links.ok()) << links.status();
    if (!links.ok()) return names;
    for (const LinkInfo& l : *links) names.push_back(l.name);
    return names;
  }

  std::optional<TestNetNs> a_;
  std::optional<TestNetNs> b_;
};

TEST_F(NetlinkTest, FreshNamespaceHoldsOnlyLoopback) {
  absl::StatusOr<std::vector<LinkInfo>> links = a().nl().ListLinks();
  ASSERT_TRUE(links.ok()) << links.status();
  ASSERT_EQ(links->size(), 1u);
  EXPECT_EQ((*links)[0].name, "lo");
  EXPECT_TRUE((*links)[0].up);
}

TEST_F(NetlinkTest, VethWithPeerInAnotherNamespace) {
  ASSERT_TRUE(a().nl().CreateVeth("va", "vb", &b().ns(), 1400).ok());
  absl::StatusOr<LinkInfo> va = a().nl().GetLink("va");
  ASSERT_TRUE(va.ok()) << va.status();
  EXPECT_EQ(va->kind, "veth");
  EXPECT_EQ(va->mtu, 1400u);
  EXPECT_FALSE(va->up);
  EXPECT_EQ(va->mac.size(), 17u);
  absl::StatusOr<LinkInfo> vb = b().nl().GetLink("vb");
  ASSERT_TRUE(vb.ok()) << vb.status();
  EXPECT_EQ(vb->mtu, 1400u);
  EXPECT_THAT(Names(a().nl()), Not(Contains("vb")));

  absl::Status dup = a().nl().CreateVeth("va", "vc");
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_THAT(std::string(dup.message()), HasSubstr("\"va\""));

  // Deleting one end removes the pair in both namespaces.
  ASSERT_TRUE(a().nl().DeleteLink("va").ok());
  EXPECT_THAT(Names(a().nl()), Not(Contains("va")));
  EXPECT_THAT(Names(b().nl()), Not(Contains("vb")));
  absl::Status gone = a().nl().DeleteLink("va");
  EXPECT_EQ(gone.code(), absl::StatusCode::kNotFound) << gone;
  EXPECT_THAT(std::string(gone.message()), HasSubstr("\"va\""));
}

TEST_F(NetlinkTest, LinkAttributesMoveRenameMasterMacMtu) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("v0", "v1").ok());
  ASSERT_TRUE(nl.CreateBridge("br0").ok());
  ASSERT_TRUE(nl.SetMaster("v0", "br0").ok());
  absl::StatusOr<int> br = nl.LinkIndex("br0");
  ASSERT_TRUE(br.ok());
  EXPECT_EQ(nl.GetLink("v0")->master_index, *br);
  EXPECT_EQ(nl.GetLink("br0")->kind, "bridge");
  ASSERT_TRUE(nl.SetMaster("v0", "").ok());
  EXPECT_EQ(nl.GetLink("v0")->master_index, 0);

  ASSERT_TRUE(nl.SetMtu("v0", 1280).ok());
  EXPECT_EQ(nl.GetLink("v0")->mtu, 1280u);
  ASSERT_TRUE(nl.SetMac("v0", "02:00:00:aa:bb:cc").ok());
  EXPECT_EQ(nl.GetLink("v0")->mac, "02:00:00:aa:bb:cc");
  EXPECT_EQ(nl.SetMac("v0", "02:00:00:aa:bb").code(), absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(nl.SetUp("v0", true).ok());
  EXPECT_TRUE(nl.GetLink("v0")->up);
  ASSERT_TRUE(nl.SetUp("v0", false).ok());
  EXPECT_FALSE(nl.GetLink("v0")->up);

  ASSERT_TRUE(nl.Rename("v0", "renamed0").ok());
  EXPECT_THAT(Names(nl), Contains("renamed0"));
  EXPECT_EQ(nl.LinkIndex("v0").status().code(), absl::StatusCode::kNotFound);

  ASSERT_TRUE(nl.MoveToNetNs("v1", b().ns(), "moved1").ok());
  EXPECT_THAT(Names(nl), Not(Contains("v1")));
  EXPECT_THAT(Names(b().nl()), Contains("moved1"));

  EXPECT_EQ(nl.SetUp("nosuchlink", true).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nl.CreateBridge("this-name-is-too-long").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NetlinkTest, VxlanDeviceHoldsItsParameters) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("under0", "under1", &b().ns()).ok());
  ASSERT_TRUE(nl.AddAddress("under0", "192.0.2.1/24").ok());
  ASSERT_TRUE(nl.SetUp("under0", true).ok());
  VxlanSpec spec;
  spec.name = "vx0";
  spec.vni = 4242;
  spec.local_ip = "192.0.2.1";
  spec.remote_ip = "192.0.2.2";
  spec.underlay_device = "under0";
  spec.mtu = 1446;
  absl::Status made = nl.CreateVxlan(spec);
  ASSERT_TRUE(made.ok()) << made;
  absl::StatusOr<LinkInfo> vx = nl.GetLink("vx0");
  ASSERT_TRUE(vx.ok());
  EXPECT_EQ(vx->kind, "vxlan");
  EXPECT_EQ(vx->mtu, 1446u);
  EXPECT_EQ(vx->vxlan_vni, 4242u);
  EXPECT_EQ(vx->vxlan_remote, "192.0.2.2");
  EXPECT_EQ(vx->vxlan_local, "192.0.2.1");
  EXPECT_EQ(vx->vxlan_port, kVxlanPort);
  EXPECT_EQ(vx->vxlan_underlay_index, *nl.LinkIndex("under0"));

  spec.name = "vx1";
  spec.underlay_device = "nosuch0";
  absl::Status bad = nl.CreateVxlan(spec);
  EXPECT_EQ(bad.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(bad.message()), HasSubstr("nosuch0"));
}

TEST_F(NetlinkTest, AddressesAddListDelete) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("v0", "v1").ok());
  ASSERT_TRUE(nl.AddAddress("v0", "10.1.0.1/31").ok());
  ASSERT_TRUE(nl.AddAddress("v0", "fd00:1::1/127").ok());
  ASSERT_TRUE(nl.AddAddress("v1", "10.1.0.0/31").ok());
  absl::StatusOr<std::vector<AddressInfo>> v0 = nl.ListAddresses("v0");
  ASSERT_TRUE(v0.ok()) << v0.status();
  std::vector<std::string> cidrs;
  for (const AddressInfo& a : *v0) {
    EXPECT_EQ(a.link, "v0");
    cidrs.push_back(a.cidr);
  }
  EXPECT_THAT(cidrs, ::testing::UnorderedElementsAre("10.1.0.1/31", "fd00:1::1/127"));

  absl::Status dup = nl.AddAddress("v0", "10.1.0.1/31");
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_EQ(nl.AddAddress("v0", "10.1.0.1").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(nl.AddAddress("v0", "10.1.0.300/24").code(), absl::StatusCode::kInvalidArgument);

  ASSERT_TRUE(nl.DeleteAddress("v0", "10.1.0.1/31").ok());
  v0 = nl.ListAddresses("v0");
  ASSERT_TRUE(v0.ok());
  ASSERT_EQ(v0->size(), 1u);
  EXPECT_EQ((*v0)[0].cidr, "fd00:1::1/127");
  EXPECT_EQ(nl.DeleteAddress("v0", "10.1.0.1/31").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nl.ListAddresses("nosuch").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(NetlinkTest, RoutesOnLinkViaAndInOtherTables) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("v0", "v1").ok());
  ASSERT_TRUE(nl.SetUp("v0", true).ok());
  ASSERT_TRUE(nl.AddAddress("v0", "169.254.0.1/32").ok());
  ASSERT_TRUE(nl.AddRoute(Route("169.254.0.0/32", "", "v0")).ok());
  absl::Status via =
      nl.AddRoute(Route("10.20.0.0/16", "169.254.0.0", "v0", kMainTable, false, "169.254.0.1"));
  ASSERT_TRUE(via.ok()) << via;
  absl::Status onlink = nl.AddRoute(Route("0.0.0.0/0", "169.254.0.0", "v0", 100, true));
  ASSERT_TRUE(onlink.ok()) << onlink;

  absl::StatusOr<std::vector<RouteInfo>> main_routes = nl.ListRoutes(kMainTable);
  ASSERT_TRUE(main_routes.ok()) << main_routes.status();
  auto find = [](const std::vector<RouteInfo>& routes, const std::string& prefix) {
    auto it = std::find_if(routes.begin(), routes.end(),
                           [&](const RouteInfo& r) { return r.prefix == prefix; });
    return it == routes.end() ? std::optional<RouteInfo>() : std::optional<RouteInfo>(*it);
  };
  std::optional<RouteInfo> host = find(*main_routes, "169.254.0.0/32");
  ASSERT_TRUE(host);
  EXPECT_EQ(host->device, "v0");
  EXPECT_EQ(host->scope, RouteScope::kLink);
  EXPECT_EQ(host->via, "");
  std::optional<RouteInfo> net = find(*main_routes, "10.20.0.0/16");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->via, "169.254.0.0");
  EXPECT_EQ(net->src, "169.254.0.1");
  EXPECT_EQ(net->scope, RouteScope::kUniverse);
  EXPECT_FALSE(find(*main_routes, "0.0.0.0/0"));

  absl::StatusOr<std::vector<RouteInfo>> t100 = nl.ListRoutes(100);
  ASSERT_TRUE(t100.ok());
  ASSERT_EQ(t100->size(), 1u);
  EXPECT_EQ((*t100)[0].prefix, "0.0.0.0/0");
  EXPECT_EQ((*t100)[0].table, 100u);
  EXPECT_TRUE((*t100)[0].onlink);

  absl::Status dup = nl.AddRoute(Route("10.20.0.0/16", "169.254.0.0", "v0"));
  EXPECT_EQ(dup.code(), absl::StatusCode::kAlreadyExists) << dup;
  EXPECT_THAT(std::string(dup.message()), HasSubstr("10.20.0.0/16"));

  ASSERT_TRUE(nl.DeleteRoute(Route("0.0.0.0/0", "", "v0", 100)).ok());
  EXPECT_TRUE(nl.ListRoutes(100)->empty());
  EXPECT_EQ(nl.DeleteRoute(Route("0.0.0.0/0", "", "v0", 100)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(nl.AddRoute(Route("10.0.0.0/8", "", "")).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NetlinkTest, Ipv6RoutesWithNextHop) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("v0", "v1").ok());
  ASSERT_TRUE(nl.SetUp("v0", true).ok());
  ASSERT_TRUE(nl.AddAddress("v0", "fd00::1/128").ok());
  absl::Status added = nl.AddRoute(Route("fd10::/64", "fd00::", "v0", kMainTable, true));
  ASSERT_TRUE(added.ok()) << added;
  absl::StatusOr<std::vector<RouteInfo>> routes = nl.ListRoutes(kMainTable);
  ASSERT_TRUE(routes.ok());
  EXPECT_TRUE(std::any_of(routes->begin(), routes->end(), [](const RouteInfo& r) {
    return r.prefix == "fd10::/64" && r.via == "fd00::" && r.device == "v0";
  }));
}

TEST_F(NetlinkTest, PolicyRulesAddListDelete) {
  Netlink& nl = a().nl();
  absl::StatusOr<std::vector<RuleSpec>> defaults = nl.ListRules();
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  EXPECT_TRUE(std::any_of(defaults->begin(), defaults->end(), [](const RuleSpec& r) {
    return r.table == kMainTable && r.priority == 32766 && !r.ipv6;
  }));

  RuleSpec rule;
  rule.from = "172.16.1.101/32";
  rule.ipproto = 6;
  rule.dport = {8000, 8080};
  rule.sport = {1024, 1024};
  rule.table = 1;
  rule.priority = 1000;
  absl::Status added = nl.AddRule(rule);
  ASSERT_TRUE(added.ok()) << added;
  RuleSpec v6;
  v6.from = "fd00::/64";
  v6.table = 2;
  v6.priority = 1001;
  ASSERT_TRUE(nl.AddRule(v6).ok());
  v6.ipv6 = true;  // as the kernel reports it back
  absl::StatusOr<std::vector<RuleSpec>> rules = nl.ListRules();
  ASSERT_TRUE(rules.ok());
  EXPECT_THAT(*rules, Contains(rule));
  EXPECT_THAT(*rules, Contains(v6));
  EXPECT_EQ(nl.AddRule(rule).code(), absl::StatusCode::kAlreadyExists);

  ASSERT_TRUE(nl.DeleteRule(rule).ok());
  ASSERT_TRUE(nl.DeleteRule(v6).ok());
  rules = nl.ListRules();
  ASSERT_TRUE(rules.ok());
  EXPECT_EQ(rules->size(), defaults->size());
  EXPECT_EQ(nl.DeleteRule(rule).code(), absl::StatusCode::kNotFound);
  RuleSpec no_table;
  no_table.from = "10.0.0.0/8";
  EXPECT_EQ(nl.AddRule(no_table).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NetlinkTest, PermanentNeighbours) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("v0", "v1").ok());
  ASSERT_TRUE(nl.AddNeighbor("v0", "10.1.0.9", "02:00:00:00:00:09").ok());
  ASSERT_TRUE(nl.AddNeighbor("v0", "fd00::9", "02:00:00:00:00:0a").ok());
  // Adding again replaces.
  ASSERT_TRUE(nl.AddNeighbor("v0", "10.1.0.9", "02:00:00:00:00:0b").ok());
  absl::StatusOr<std::vector<NeighborInfo>> n = nl.ListNeighbors("v0");
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_THAT(*n, ::testing::UnorderedElementsAre(
                      NeighborInfo{"v0", "10.1.0.9", "02:00:00:00:00:0b", true},
                      NeighborInfo{"v0", "fd00::9", "02:00:00:00:00:0a", true}));
  ASSERT_TRUE(nl.DeleteNeighbor("v0", "10.1.0.9").ok());
  EXPECT_EQ(nl.ListNeighbors("v0")->size(), 1u);
  EXPECT_EQ(nl.AddNeighbor("v0", "10.1.0.9", "zz").code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(NetlinkTest, IngressRedirectAddQueryRemove) {
  Netlink& nl = a().nl();
  ASSERT_TRUE(nl.CreateVeth("x0", "x1").ok());
  ASSERT_TRUE(nl.CreateVeth("y0", "y1").ok());
  EXPECT_EQ(*nl.IngressRedirectTarget("x0"), std::nullopt);
  absl::Status redirect = nl.RedirectIngress("x0", "y0");
  ASSERT_TRUE(redirect.ok()) << redirect;
  EXPECT_EQ(*nl.IngressRedirectTarget("x0"), *nl.LinkIndex("y0"));
  absl::Status again = nl.RedirectIngress("x0", "x1");
  EXPECT_EQ(again.code(), absl::StatusCode::kAlreadyExists) << again;
  EXPECT_EQ(*nl.IngressRedirectTarget("x0"), *nl.LinkIndex("y0"));
  ASSERT_TRUE(nl.RemoveRedirect("x0").ok());
  EXPECT_EQ(*nl.IngressRedirectTarget("x0"), std::nullopt);
  absl::Status missing = nl.RemoveRedirect("x0");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound) << missing;
  EXPECT_EQ(nl.RedirectIngress("x0", "nosuch").code(), absl::StatusCode::kNotFound);
}

TEST_F(NetlinkTest, SocketStaysBoundToItsNamespaceFromAnyThread) {
  // Open in `a`, use from this (root-namespace) thread: links land in `a`.
  ASSERT_TRUE(a().nl().CreateBridge("brx").ok());
  EXPECT_THAT(Names(a().nl()), Contains("brx"));
  EXPECT_THAT(Names(b().nl()), Not(Contains("brx")));
}

TEST_F(NetlinkTest, OpenInTheCallersOwnNamespaceNeedsNoThread) {
  // From a thread inside `a`, opening `a` starts no thread, and the socket acts on `a`.
  absl::StatusOr<std::unique_ptr<NetNsThread>> inside = NetNsThread::Start(a().ns());
  ASSERT_TRUE(inside.ok()) << inside.status();
  const std::uint64_t before = NetNsThreadsStarted();
  absl::Status made = (*inside)->Run([&]() -> absl::Status {
    absl::StatusOr<std::unique_ptr<Netlink>> own = Netlink::Open(a().ns());
    if (!own.ok()) return own.status();
    return (*own)->CreateBridge("br-own");
  });
  ASSERT_TRUE(made.ok()) << made;
  EXPECT_EQ(NetNsThreadsStarted(), before);
  EXPECT_THAT(Names(a().nl()), Contains("br-own"));
  EXPECT_THAT(Names(b().nl()), Not(Contains("br-own")));

  // From this thread (elsewhere), opening `b` takes one thread, and the socket acts on `b`.
  absl::StatusOr<std::unique_ptr<Netlink>> other = Netlink::Open(b().ns());
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(NetNsThreadsStarted(), before + 1);
  ASSERT_TRUE((*other)->CreateBridge("br-other").ok());
  EXPECT_THAT(Names(b().nl()), Contains("br-other"));
  EXPECT_THAT(Names(a().nl()), Not(Contains("br-other")));
}

TEST_F(NetlinkTest, LinkSettersByNameReportAMissingLinkByName) {
  for (absl::Status s : {a().nl().SetUp("nosuch0", true), a().nl().SetMtu("nosuch0", 1280),
                         a().nl().SetMac("nosuch0", "02:00:00:00:00:01")}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr("\"nosuch0\"")) << s;
  }
  EXPECT_EQ(a().nl().SetUp("a/b", true).code(), absl::StatusCode::kInvalidArgument);
  // A name in the request selects the link; it never renames it.
  ASSERT_TRUE(a().nl().CreateBridge("br-set").ok());
  ASSERT_TRUE(a().nl().SetUp("br-set", true).ok());
  ASSERT_TRUE(a().nl().SetMtu("br-set", 1300).ok());
  absl::StatusOr<LinkInfo> link = a().nl().GetLink("br-set");
  ASSERT_TRUE(link.ok()) << link.status();
  EXPECT_TRUE(link->up);
  EXPECT_EQ(link->mtu, 1300u);
  ASSERT_TRUE(a().nl().SetUp("br-set", false).ok());
  EXPECT_FALSE(a().nl().GetLink("br-set")->up);
}

TEST_F(NetlinkTest, ListingsStayConsistentWhileAnotherThreadChangesLinks) {
  // One Netlink shared by two threads: one churns bridges, the other lists. Every listing must be
  // a consistent picture: loopback present, no index or name twice.
  Netlink& nl = a().nl();
  std::atomic<bool> churn_ok{true};
  std::thread churn([&] {
    for (int i = 0; i < 60; ++i) {
      std::string name = "churn" + std::to_string(i % 5);
      if (!nl.CreateBridge(name).ok() || !nl.DeleteLink(name).ok()) churn_ok = false;
    }
  });
  for (int i = 0; i < 60; ++i) {
    absl::StatusOr<std::vector<LinkInfo>> links = nl.ListLinks();
    ASSERT_TRUE(links.ok()) << links.status();
    std::set<int> indexes;
    std::set<std::string> names;
    for (const LinkInfo& l : *links) {
      EXPECT_TRUE(indexes.insert(l.index).second) << "index " << l.index << " twice";
      EXPECT_TRUE(names.insert(l.name).second) << l.name << " twice";
    }
    EXPECT_TRUE(names.count("lo"));
  }
  churn.join();
  EXPECT_TRUE(churn_ok);
  EXPECT_EQ(Names(nl), std::vector<std::string>{"lo"});
}

}  // namespace
}  // namespace nsmcert::kernel
