#include "reference/sdk/tools/ipam.h"

#include <set>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nsmcert::sdk::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::unique_ptr<PointToPointIpam> P2p(std::string_view prefixes) {
  std::vector<Cidr> cidrs;
  auto groups = ParseCidrGroups(prefixes);
  EXPECT_TRUE(groups.ok()) << groups.status();
  for (const auto& group : *groups) cidrs.insert(cidrs.end(), group.begin(), group.end());
  auto ipam = PointToPointIpam::Create(cidrs);
  EXPECT_TRUE(ipam.ok()) << ipam.status();
  return *std::move(ipam);
}

std::vector<std::string> Routes(
    const google::protobuf::RepeatedPtrField<connectioncontext::Route>& r) {
  std::vector<std::string> out;
  for (const auto& route : r) out.push_back(route.prefix());
  return out;
}

TEST(PointToPointIpamTest, SpecExampleSlash31) {
  auto ipam = P2p("172.16.1.100/31");
  connectioncontext::IPContext ctx;
  auto allocation = ipam->Request("conn-1", ctx);
  ASSERT_TRUE(allocation.ok()) << allocation.status();
  EXPECT_EQ(allocation->dst_address, "172.16.1.100/32");
  EXPECT_EQ(allocation->src_address, "172.16.1.101/32");
  EXPECT_TRUE(allocation->newly_allocated);
  EXPECT_THAT(ctx.src_ip_addrs(), ElementsAre("172.16.1.101/32"));
  EXPECT_THAT(ctx.dst_ip_addrs(), ElementsAre("172.16.1.100/32"));
  EXPECT_THAT(Routes(ctx.src_routes()), ElementsAre("172.16.1.100/32"));
  EXPECT_THAT(Routes(ctx.dst_routes()), ElementsAre("172.16.1.101/32"));
}

TEST(PointToPointIpamTest, PoolIncludesNetworkAddress) {
  auto ipam = P2p("169.254.0.0/16");
  connectioncontext::IPContext ctx;
  auto allocation = ipam->Request("c", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "169.254.0.0/32");
  EXPECT_EQ(allocation->src_address, "169.254.0.1/32");
}

TEST(PointToPointIpamTest, EachConnectionGetsItsOwnPair) {
  auto ipam = P2p("172.16.1.0/29");
  connectioncontext::IPContext first, second;
  ASSERT_TRUE(ipam->Request("a", first).ok());
  auto allocation = ipam->Request("b", second);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "172.16.1.2/32");
  EXPECT_EQ(allocation->src_address, "172.16.1.3/32");
  EXPECT_EQ(ipam->connection_count(), 2u);
}

TEST(PointToPointIpamTest, SkipsExcludedPrefixes) {
  auto ipam = P2p("172.16.1.200/30");
  connectioncontext::IPContext ctx;
  ctx.add_excluded_prefixes("172.16.1.201/32");
  ctx.add_excluded_prefixes("172.16.1.202/32");
  auto allocation = ipam->Request("c", ctx);
  ASSERT_TRUE(allocation.ok()) << allocation.status();
  EXPECT_EQ(allocation->dst_address, "172.16.1.200/32");
  EXPECT_EQ(allocation->src_address, "172.16.1.203/32");
  EXPECT_THAT(ctx.excluded_prefixes(), ElementsAre("172.16.1.201/32", "172.16.1.202/32"));
}

TEST(PointToPointIpamTest, ExcludedRangesAndOtherFamiliesAreHandled) {
  auto ipam = P2p("10.0.0.0/24");
  connectioncontext::IPContext ctx;
  ctx.add_excluded_prefixes("10.0.0.0/30");
  ctx.add_excluded_prefixes("10.0.0.4/31");
  ctx.add_excluded_prefixes("fd00::/8");
  ctx.add_excluded_prefixes("10.0.0.7/32");
  auto allocation = ipam->Request("c", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "10.0.0.6/32");
  EXPECT_EQ(allocation->src_address, "10.0.0.8/32");
}

TEST(PointToPointIpamTest, RefreshKeepsAddressesWithoutDuplicates) {
  auto ipam = P2p("172.16.1.0/29");
  connectioncontext::IPContext ctx;
  ASSERT_TRUE(ipam->Request("a", ctx).ok());
  const connectioncontext::IPContext after_first = ctx;
  auto again = ipam->Request("a", ctx);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->newly_allocated);
  EXPECT_EQ(again->dst_address, "172.16.1.0/32");
  EXPECT_EQ(ctx.SerializeAsString(), after_first.SerializeAsString());
  EXPECT_EQ(ipam->connection_count(), 1u);
}

TEST(PointToPointIpamTest, RecoversAddressesCarriedByTheRequest) {
  // A restarted NSE: a fresh allocator sees a refresh that carries the old addresses.
  auto ipam = P2p("172.16.1.0/29");
  connectioncontext::IPContext ctx;
  ctx.add_src_ip_addrs("172.16.1.5/32");
  ctx.add_dst_ip_addrs("172.16.1.4/32");
  ctx.add_src_routes()->set_prefix("172.16.1.4/32");
  ctx.add_dst_routes()->set_prefix("172.16.1.5/32");
  auto allocation = ipam->Request("a", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_TRUE(allocation->newly_allocated);
  EXPECT_EQ(allocation->src_address, "172.16.1.5/32");
  EXPECT_EQ(allocation->dst_address, "172.16.1.4/32");
  EXPECT_THAT(ctx.src_ip_addrs(), ElementsAre("172.16.1.5/32"));
  EXPECT_THAT(Routes(ctx.src_routes()), ElementsAre("172.16.1.4/32"));

  // Those addresses are now taken: a new connection gets the lowest free ones.
  connectioncontext::IPContext other;
  auto next = ipam->Request("b", other);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->dst_address, "172.16.1.0/32");
  EXPECT_EQ(next->src_address, "172.16.1.1/32");
}

TEST(PointToPointIpamTest, DoesNotRecoverForeignOrTakenAddresses) {
  auto ipam = P2p("172.16.1.0/29");
  connectioncontext::IPContext first;
  ASSERT_TRUE(ipam->Request("a", first).ok());  // .0 / .1

  connectioncontext::IPContext ctx;
  ctx.add_src_ip_addrs("172.16.1.1/32");  // taken by "a"
  ctx.add_dst_ip_addrs("10.0.0.1/32");    // outside the pool
  auto allocation = ipam->Request("b", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "172.16.1.2/32");
  EXPECT_EQ(allocation->src_address, "172.16.1.3/32");
  // Polite: the client's own entries stay, ours are added.
  EXPECT_THAT(ctx.src_ip_addrs(), ElementsAre("172.16.1.1/32", "172.16.1.3/32"));
  EXPECT_THAT(ctx.dst_ip_addrs(), ElementsAre("10.0.0.1/32", "172.16.1.2/32"));
}

TEST(PointToPointIpamTest, DoesNotRecoverExcludedAddresses) {
  auto ipam = P2p("172.16.1.96/29");
  connectioncontext::IPContext ctx;
  ctx.add_src_ip_addrs("172.16.1.97/32");
  ctx.add_dst_ip_addrs("172.16.1.96/32");
  ctx.add_excluded_prefixes("172.16.1.96/32");
  auto allocation = ipam->Request("a", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "172.16.1.97/32");
  EXPECT_EQ(allocation->src_address, "172.16.1.98/32");
}

TEST(PointToPointIpamTest, ReallocatesWhenAddressesBecomeExcluded) {
  auto ipam = P2p("172.16.1.0/29");
  connectioncontext::IPContext ctx;
  ASSERT_TRUE(ipam->Request("a", ctx).ok());  // dst .0, src .1

  ctx.add_excluded_prefixes("172.16.1.1/32");
  auto moved = ipam->Request("a", ctx);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_TRUE(moved->newly_allocated);
  EXPECT_EQ(moved->dst_address, "172.16.1.0/32");
  EXPECT_EQ(moved->src_address, "172.16.1.2/32");
  EXPECT_THAT(ctx.src_ip_addrs(), ElementsAre("172.16.1.2/32"));
  EXPECT_THAT(ctx.dst_ip_addrs(), ElementsAre("172.16.1.0/32"));
  EXPECT_THAT(Routes(ctx.src_routes()), ElementsAre("172.16.1.0/32"));
  EXPECT_THAT(Routes(ctx.dst_routes()), ElementsAre("172.16.1.2/32"));
  EXPECT_EQ(ipam->connection_count(), 1u);
}

TEST(PointToPointIpamTest, CloseReturnsAddresses) {
  auto ipam = P2p("172.16.1.100/31");
  connectioncontext::IPContext a, b, c;
  ASSERT_TRUE(ipam->Request("a", a).ok());
  auto exhausted = ipam->Request("b", b);
  ASSERT_FALSE(exhausted.ok());
  EXPECT_EQ(exhausted.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(exhausted.status().message(), HasSubstr("172.16.1.100/31"));
  EXPECT_EQ(b.src_ip_addrs_size(), 0);

  ipam->Close("a");
  ipam->Close("a");        // twice is harmless
  ipam->Close("unknown");  // so is an unknown id
  EXPECT_EQ(ipam->connection_count(), 0u);
  auto reused = ipam->Request("c", c);
  ASSERT_TRUE(reused.ok());
  EXPECT_EQ(reused->dst_address, "172.16.1.100/32");
}

TEST(PointToPointIpamTest, ReleasedAddressesMergeBack) {
  auto ipam = P2p("10.0.0.0/29");
  for (int i = 0; i < 4; ++i) {
    connectioncontext::IPContext ctx;
    ASSERT_TRUE(ipam->Request("c" + std::to_string(i), ctx).ok());
  }
  for (int i : {1, 0, 3, 2}) ipam->Close("c" + std::to_string(i));
  connectioncontext::IPContext ctx;
  ctx.add_excluded_prefixes("10.0.0.0/30");
  auto allocation = ipam->Request("x", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "10.0.0.4/32");
  EXPECT_EQ(allocation->src_address, "10.0.0.5/32");
}

TEST(PointToPointIpamTest, SecondPrefixServesWhenFirstIsFull) {
  auto ipam = P2p("[10.0.0.0/31, 10.0.1.0/31]");
  connectioncontext::IPContext a, b;
  ASSERT_TRUE(ipam->Request("a", a).ok());
  auto second = ipam->Request("b", b);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->dst_address, "10.0.1.0/32");
}

TEST(PointToPointIpamTest, SingleAddressPoolCannotServe) {
  auto ipam = P2p("10.0.0.1/32");
  connectioncontext::IPContext ctx;
  EXPECT_EQ(ipam->Request("a", ctx).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(PointToPointIpamTest, Ipv6) {
  auto ipam = P2p("fd00::/127");
  connectioncontext::IPContext ctx;
  auto allocation = ipam->Request("a", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "fd00::/128");
  EXPECT_EQ(allocation->src_address, "fd00::1/128");

  auto big = P2p("fd00::/64");
  connectioncontext::IPContext excluded;
  excluded.add_excluded_prefixes("fd00::/126");
  auto next = big->Request("a", excluded);
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->dst_address, "fd00::4/128");
  EXPECT_EQ(next->src_address, "fd00::5/128");
}

TEST(PointToPointIpamTest, WholeIpv6SpacePool) {
  auto ipam = P2p("::/0");
  connectioncontext::IPContext ctx;
  ctx.add_excluded_prefixes("::/1");
  auto allocation = ipam->Request("a", ctx);
  ASSERT_TRUE(allocation.ok());
  EXPECT_EQ(allocation->dst_address, "8000::/128");
  ipam->Close("a");
  EXPECT_EQ(ipam->connection_count(), 0u);
}

TEST(PointToPointIpamTest, BadExcludedPrefixIsNamed) {
  auto ipam = P2p("10.0.0.0/24");
  connectioncontext::IPContext ctx;
  ctx.add_excluded_prefixes("10.0.0.0/8");
  ctx.add_excluded_prefixes("10.0.0.300/32");
  auto allocation = ipam->Request("a", ctx);
  ASSERT_FALSE(allocation.ok());
  EXPECT_EQ(allocation.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(allocation.status().message(), HasSubstr("ip_context.excluded_prefixes[1]"));
  EXPECT_EQ(ipam->connection_count(), 0u);
}

TEST(PointToPointIpamTest, ConcurrentRequestsGetDistinctAddresses) {
  auto ipam = P2p("10.0.0.0/22");
  std::vector<std::thread> threads;
  std::vector<std::vector<std::string>> results(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        connectioncontext::IPContext ctx;
        auto allocation = ipam->Request("t" + std::to_string(t) + "-" + std::to_string(i), ctx);
        if (allocation.ok()) {
          results[t].push_back(allocation->src_address);
          results[t].push_back(allocation->dst_address);
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::set<std::string> all;
  size_t total = 0;
  for (const auto& r : results) {
    all.insert(r.begin(), r.end());
    total += r.size();
  }
  EXPECT_EQ(total, 800u);
  EXPECT_EQ(all.size(), 800u);
}

TEST(PointToPointIpamTest, CreateNeedsPrefixes) {
  EXPECT_EQ(PointToPointIpam::Create({}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GroupIpamTest, DualStack) {
  auto ipam = GroupIpam::FromCidrPrefix("172.16.1.100/31, fd00::/127");
  ASSERT_TRUE(ipam.ok()) << ipam.status();
  connectioncontext::IPContext ctx;
  auto allocations = (*ipam)->Request("a", ctx);
  ASSERT_TRUE(allocations.ok()) << allocations.status();
  ASSERT_EQ(allocations->size(), 2u);
  EXPECT_THAT(ctx.src_ip_addrs(), ElementsAre("172.16.1.101/32", "fd00::1/128"));
  EXPECT_THAT(ctx.dst_ip_addrs(), ElementsAre("172.16.1.100/32", "fd00::/128"));
  EXPECT_THAT(Routes(ctx.src_routes()), ElementsAre("172.16.1.100/32", "fd00::/128"));
  EXPECT_THAT(Routes(ctx.dst_routes()), ElementsAre("172.16.1.101/32", "fd00::1/128"));
}

TEST(GroupIpamTest, FailingGroupUndoesEarlierGroups) {
  auto ipam = GroupIpam::FromCidrPrefix("10.0.0.0/30, 10.1.0.0/31");
  ASSERT_TRUE(ipam.ok());
  connectioncontext::IPContext a;
  ASSERT_TRUE((*ipam)->Request("a", a).ok());  // 10.0.0.0/.1 and 10.1.0.0/.1

  connectioncontext::IPContext b;
  auto failed = (*ipam)->Request("b", b);  // group 1 takes .2/.3, group 2 is full
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kResourceExhausted);

  // .2/.3 went back: once "a" is gone, a request that must avoid .0/.1 gets them.
  (*ipam)->Close("a");
  connectioncontext::IPContext c;
  c.add_excluded_prefixes("10.0.0.0/31");
  auto allocations = (*ipam)->Request("c", c);
  ASSERT_TRUE(allocations.ok()) << allocations.status();
  EXPECT_EQ((*allocations)[0].dst_address, "10.0.0.2/32");
}

TEST(GroupIpamTest, UndoReleasesOnlyNewAllocations) {
  auto ipam = GroupIpam::FromCidrPrefix("10.0.0.0/31");
  ASSERT_TRUE(ipam.ok());
  connectioncontext::IPContext ctx;
  auto first = (*ipam)->Request("a", ctx);
  ASSERT_TRUE(first.ok());
  auto refresh = (*ipam)->Request("a", ctx);
  ASSERT_TRUE(refresh.ok());
  (*ipam)->Undo("a", *refresh);  // a failed refresh keeps the addresses
  connectioncontext::IPContext other;
  EXPECT_FALSE((*ipam)->Request("b", other).ok());
  (*ipam)->Undo("a", *first);  // a failed first request gives them back
  EXPECT_TRUE((*ipam)->Request("b", other).ok());
}

TEST(GroupIpamTest, StrictPolicyResetsForeignContext) {
  auto strict = GroupIpam::FromCidrPrefix("172.16.0.0/24", IpamPolicy::kStrict);
  ASSERT_TRUE(strict.ok());
  connectioncontext::IPContext ctx;
  ctx.add_src_ip_addrs("10.9.9.9/32");
  ctx.add_dst_ip_addrs("172.16.0.7/32");
  ctx.add_excluded_prefixes("172.16.0.0/31");
  auto allocations = (*strict)->Request("a", ctx);
  ASSERT_TRUE(allocations.ok());
  EXPECT_THAT(ctx.src_ip_addrs(), ElementsAre("172.16.0.1/32"));
  EXPECT_THAT(ctx.dst_ip_addrs(), ElementsAre("172.16.0.0/32"));
  EXPECT_EQ(ctx.excluded_prefixes_size(), 0);

  // Addresses inside the pool are kept and recovered.
  connectioncontext::IPContext inside;
  inside.add_src_ip_addrs("172.16.0.9/32");
  inside.add_dst_ip_addrs("172.16.0.8/32");
  auto kept = (*strict)->Request("b", inside);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ((*kept)[0].src_address, "172.16.0.9/32");
}

TEST(GroupIpamTest, CreationErrors) {
  EXPECT_FALSE(GroupIpam::FromCidrPrefix("").ok());
  EXPECT_FALSE(GroupIpam::FromCidrPrefix("[10.0.0.0/8").ok());
  EXPECT_FALSE(GroupIpam::Create({{}}).ok());
}

}  // namespace
}  // namespace nsmcert::sdk::tools
