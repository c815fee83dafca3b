#include "reference/sdk/registry/clientinfo.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace nsmcert::sdk::reg {
namespace {

tools::EnvLookup FakeEnv(std::map<std::string, std::string> vars) {
  return [vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(RegistryClientInfo, AddsNodeLabelsToEveryServiceWithoutOverwriting) {
  auto chain = *NseRegistryChain::Make(
      {std::make_shared<ClientInfo>(FakeEnv({{"NODE_NAME", "node-1"}, {"POD_NAME", "pod-1"}}))});
  Context ctx;
  registry::NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  (*(*nse.mutable_network_service_labels())["icmp"].mutable_labels())["app"] = "x";
  (*(*nse.mutable_network_service_labels())["l2"].mutable_labels())["podName"] = "mine";
  (*nse.mutable_network_service_labels())["empty"];

  auto registered = chain->Register(ctx, nse);
  ASSERT_TRUE(registered.ok()) << registered.status();
  const auto& labels = registered->network_service_labels();
  ASSERT_EQ(labels.size(), 3u);
  EXPECT_EQ(labels.at("icmp").labels().at("app"), "x");
  EXPECT_EQ(labels.at("icmp").labels().at("nodeName"), "node-1");
  EXPECT_EQ(labels.at("icmp").labels().at("podName"), "pod-1");
  EXPECT_EQ(labels.at("l2").labels().at("podName"), "mine");
  EXPECT_EQ(labels.at("l2").labels().at("nodeName"), "node-1");
  EXPECT_EQ(labels.at("empty").labels().at("nodeName"), "node-1");
  EXPECT_FALSE(labels.at("icmp").labels().contains("clusterName"));
}

TEST(RegistryClientInfo, AddsNoServiceEntries) {
  auto chain =
      *NseRegistryChain::Make({std::make_shared<ClientInfo>(FakeEnv({{"NODE_NAME", "node-1"}}))});
  Context ctx;
  registry::NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  nse.add_network_service_names("icmp");
  auto registered = chain->Register(ctx, nse);
  ASSERT_TRUE(registered.ok());
  EXPECT_TRUE(registered->network_service_labels().empty());
}

}  // namespace
}  // namespace nsmcert::sdk::reg
