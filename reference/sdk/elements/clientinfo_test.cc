#include "reference/sdk/elements/clientinfo.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

TEST(ClientInfo, AddsEnvironmentLabelsOnlyWhereAbsent) {
  std::map<std::string, std::string> env = {{"NODE_NAME", "node-1"}, {"POD_NAME", "pod-1"}};
  auto lookup = [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  auto tail = std::make_shared<testing::Recorder>();
  auto chain = testing::MakeChain({std::make_shared<ClientInfo>(lookup), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  (*request.mutable_connection()->mutable_labels())["podName"] = "mine";
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  const auto requests = tail->requests();
  const auto& labels = requests[0].connection().labels();
  EXPECT_EQ(labels.at("nodeName"), "node-1");
  EXPECT_EQ(labels.at("podName"), "mine");
  EXPECT_FALSE(labels.contains("clusterName"));
}

}  // namespace
}  // namespace nsmcert::sdk
