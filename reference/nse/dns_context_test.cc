#include "reference/nse/dns_context.h"

#include <gtest/gtest.h>

namespace nsmcert::nse {
namespace {

TEST(ParseDnsConfigs, ReadsSnakeCaseAndCamelCase) {
  auto configs = ParseDnsConfigs(
      R"([{"dns_server_ips":["10.0.0.1","10.0.0.2:53"],"search_domains":["my.domain"]},)"
      R"( {"dnsServerIps":["fd00::1"]}])");
  ASSERT_TRUE(configs.ok()) << configs.status();
  ASSERT_EQ(configs->size(), 2u);
  EXPECT_EQ((*configs)[0].dns_server_ips_size(), 2);
  EXPECT_EQ((*configs)[0].search_domains(0), "my.domain");
  EXPECT_EQ((*configs)[1].dns_server_ips(0), "fd00::1");
}

TEST(ParseDnsConfigs, EmptyMeansNone) {
  auto configs = ParseDnsConfigs("  ");
  ASSERT_TRUE(configs.ok());
  EXPECT_TRUE(configs->empty());
  configs = ParseDnsConfigs("[]");
  ASSERT_TRUE(configs.ok());
  EXPECT_TRUE(configs->empty());
}

TEST(ParseDnsConfigs, NamesTheBadElement) {
  auto configs = ParseDnsConfigs(R"([{"dns_server_ips":["10.0.0.1"]},{"bogus":1}])");
  ASSERT_FALSE(configs.ok());
  EXPECT_EQ(configs.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(configs.status().message().find("element 1"), std::string::npos) << configs.status();
  EXPECT_FALSE(ParseDnsConfigs("{}").ok());
  EXPECT_FALSE(ParseDnsConfigs("[").ok());
}

TEST(DnsContextServer, SetsTheConfiguredConfigs) {
  auto configs = ParseDnsConfigs(R"([{"dns_server_ips":["10.0.0.1"]}])");
  ASSERT_TRUE(configs.ok());
  auto chain = *sdk::NetworkServiceChain::Make({std::make_shared<DnsContextServer>(*configs)});
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  request.mutable_connection()
      ->mutable_context()
      ->mutable_dns_context()
      ->add_configs()
      ->add_dns_server_ips("1.1.1.1");
  sdk::Context ctx;
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  ASSERT_EQ(conn->context().dns_context().configs_size(), 1);
  EXPECT_EQ(conn->context().dns_context().configs(0).dns_server_ips(0), "10.0.0.1");
}

TEST(DnsContextServer, WithoutConfigsLeavesTheContextAlone) {
  auto chain = *sdk::NetworkServiceChain::Make(
      {std::make_shared<DnsContextServer>(std::vector<connectioncontext::DNSConfig>{})});
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  request.mutable_connection()
      ->mutable_context()
      ->mutable_dns_context()
      ->add_configs()
      ->add_dns_server_ips("1.1.1.1");
  sdk::Context ctx;
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->context().dns_context().configs(0).dns_server_ips(0), "1.1.1.1");
}

}  // namespace
}  // namespace nsmcert::nse
