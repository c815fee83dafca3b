#include "reference/nsc/kernel_mechanism.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/metadata.h"

namespace nsmcert::nsc {
namespace {

constexpr char kNetNs[] = "inode://4/4026532100";

networkservice::NetworkServiceRequest Request(const std::string& id) {
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id(id);
  request.mutable_connection()->set_network_service("icmp-responder");
  return request;
}

class KernelMechanismClientTest : public ::testing::Test {
 protected:
  absl::StatusOr<connection::Connection> Pass(networkservice::NetworkServiceRequest& request) {
    sdk::Context ctx;
    return chain_->Request(ctx, request);
  }
  int generated_ = 0;
  std::shared_ptr<sdk::NetworkServiceChain> chain_ = *sdk::NetworkServiceChain::Make(
      {std::make_shared<sdk::ConnectionMetadata>(),
       std::make_shared<KernelMechanismClient>(kNetNs, [this](const std::string& service) {
         return service.substr(0, 4) + "-" + std::to_string(++generated_);
       })});
};

TEST_F(KernelMechanismClientTest, FillsTheKernelPreferenceFromTheNsUrl) {
  auto request = Request("nsc-0");
  auto* kernel = request.add_mechanism_preferences();
  kernel->set_cls("LOCAL");
  kernel->set_type("KERNEL");
  (*kernel->mutable_parameters())["name"] = "nsm-1";
  ASSERT_TRUE(Pass(request).ok());
  ASSERT_EQ(request.mechanism_preferences_size(), 1);
  EXPECT_EQ(request.mechanism_preferences(0).parameters().at("name"), "nsm-1");
  EXPECT_EQ(request.mechanism_preferences(0).parameters().at("inodeURL"), kNetNs);
  EXPECT_EQ(generated_, 0);
}

TEST_F(KernelMechanismClientTest, AddsAKernelPreferenceWhenThereIsNone) {
  auto request = Request("nsc-0");
  auto* memif = request.add_mechanism_preferences();
  memif->set_cls("LOCAL");
  memif->set_type("MEMIF");
  ASSERT_TRUE(Pass(request).ok());
  ASSERT_EQ(request.mechanism_preferences_size(), 2);
  EXPECT_FALSE(request.mechanism_preferences(0).parameters().contains("inodeURL"));
  const auto& kernel = request.mechanism_preferences(1);
  EXPECT_EQ(kernel.cls(), "LOCAL");
  EXPECT_EQ(kernel.type(), "KERNEL");
  EXPECT_EQ(kernel.parameters().at("inodeURL"), kNetNs);
  EXPECT_EQ(kernel.parameters().at("name"), "icmp-1");
}

TEST_F(KernelMechanismClientTest, GeneratesOneNamePerConnection) {
  auto first = Request("nsc-0");
  ASSERT_TRUE(Pass(first).ok());
  auto again = Request("nsc-0");
  ASSERT_TRUE(Pass(again).ok());
  EXPECT_EQ(again.mechanism_preferences(0).parameters().at("name"), "icmp-1")
      << "a refresh or heal asks for the same interface";
  auto other = Request("nsc-1");
  ASSERT_TRUE(Pass(other).ok());
  EXPECT_EQ(other.mechanism_preferences(0).parameters().at("name"), "icmp-2");
}

TEST_F(KernelMechanismClientTest, RefreshCarriesTheNamespaceInTheChosenMechanism) {
  auto request = Request("nsc-0");
  auto* mechanism = request.mutable_connection()->mutable_mechanism();
  mechanism->set_type("KERNEL");
  (*mechanism->mutable_parameters())["name"] = "nsm-1";
  ASSERT_TRUE(Pass(request).ok());
  EXPECT_EQ(request.connection().mechanism().parameters().at("inodeURL"), kNetNs);
  EXPECT_EQ(request.connection().mechanism().parameters().at("name"), "nsm-1");
}

}  // namespace
}  // namespace nsmcert::nsc
