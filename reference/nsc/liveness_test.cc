#include "reference/nsc/liveness.h"

#include <gtest/gtest.h>

namespace nsmcert::nsc {
namespace {

connection::Connection KernelConnection(std::vector<std::string> src,
                                        std::vector<std::string> dst) {
  connection::Connection conn;
  conn.mutable_mechanism()->set_type("KERNEL");
  auto* ip = conn.mutable_context()->mutable_ip_context();
  for (const auto& a : src) ip->add_src_ip_addrs(a);
  for (const auto& a : dst) ip->add_dst_ip_addrs(a);
  return conn;
}

TEST(LivenessPairs, EverySourceWithEveryDestinationOfItsFamily) {
  auto pairs = LivenessPairs(KernelConnection({"172.16.1.101/32", "fd00::1/128"},
                                              {"172.16.1.100/32", "fd00::/128", "10.0.0.1/32"}));
  std::vector<LivenessPair> expected = {{"172.16.1.101", "172.16.1.100", false},
                                        {"172.16.1.101", "10.0.0.1", false},
                                        {"fd00::1", "fd00::", true}};
  EXPECT_EQ(pairs, expected);
}

TEST(LivenessPairs, NothingToCheckWithoutKernelOrAddresses) {
  auto memif = KernelConnection({"172.16.1.101/32"}, {"172.16.1.100/32"});
  memif.mutable_mechanism()->set_type("MEMIF");
  EXPECT_TRUE(LivenessPairs(memif).empty());
  EXPECT_TRUE(LivenessPairs(KernelConnection({}, {"172.16.1.100/32"})).empty());
  EXPECT_TRUE(LivenessPairs(KernelConnection({"172.16.1.101/32"}, {"fd00::/128"})).empty());
  EXPECT_TRUE(LivenessPairs(KernelConnection({"garbage"}, {"172.16.1.100/32"})).empty());
}

TEST(CheckLiveness, AConnectionWithNothingToPingIsAlive) {
  EXPECT_TRUE(CheckLiveness(KernelConnection({}, {})));
  connection::Connection no_mechanism;
  no_mechanism.mutable_context()->mutable_ip_context()->add_src_ip_addrs("10.0.0.1/32");
  no_mechanism.mutable_context()->mutable_ip_context()->add_dst_ip_addrs("10.0.0.2/32");
  EXPECT_TRUE(CheckLiveness(no_mechanism));
}

}  // namespace
}  // namespace nsmcert::nsc
