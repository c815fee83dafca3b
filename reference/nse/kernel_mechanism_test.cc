#include "reference/nse/kernel_mechanism.h"

#include <gtest/gtest.h>

#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::nse {
namespace {

constexpr char kNetNs[] = "inode://4/4026532000";

networkservice::NetworkServiceRequest KernelRequest(std::map<std::string, std::string> params) {
  networkservice::NetworkServiceRequest request;
  auto* conn = request.mutable_connection();
  conn->set_id("conn-1");
  conn->set_network_service("icmp-responder");
  auto* mechanism = conn->mutable_mechanism();
  mechanism->set_cls("LOCAL");
  mechanism->set_type("KERNEL");
  for (const auto& [k, v] : params) (*mechanism->mutable_parameters())[k] = v;
  return request;
}

absl::StatusOr<connection::Connection> Pass(KernelMechanismServer& element,
                                            networkservice::NetworkServiceRequest request) {
  auto chain = sdk::NetworkServiceChain::Make(
      {std::shared_ptr<sdk::NetworkServiceElement>(&element, [](auto*) {})});
  sdk::Context ctx;
  return (*chain)->Request(ctx, request);
}

TEST(KernelMechanismServer, FillsOwnNamespaceAndGeneratesAName) {
  KernelMechanismServer element(kNetNs);
  auto conn = Pass(element, KernelRequest({{"inodeURL", "inode://1/2"}}));
  ASSERT_TRUE(conn.ok()) << conn.status();
  const auto& params = conn->mechanism().parameters();
  EXPECT_EQ(params.at("inodeURL"), kNetNs) << "the endpoint's namespace replaces what came in";
  const std::string& name = params.at("name");
  EXPECT_EQ(name.size(), 15u);
  EXPECT_EQ(name.substr(0, 11), "icmp-respo-");
  EXPECT_TRUE(sdk::tools::ValidateInterfaceName(name).ok());
}

TEST(KernelMechanismServer, KeepsAGivenName) {
  KernelMechanismServer element(kNetNs);
  auto conn = Pass(element, KernelRequest({{"name", "nse-1"}}));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->mechanism().parameters().at("name"), "nse-1");
  EXPECT_EQ(conn->mechanism().parameters().at("inodeURL"), kNetNs);
}

TEST(KernelMechanismServer, RefusesAnInvalidName) {
  KernelMechanismServer element(kNetNs);
  auto conn = Pass(element, KernelRequest({{"name", "sixteen-bytes-nm"}}));
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(conn.status().message().find("sixteen-bytes-nm"), std::string::npos) << conn.status();
}

TEST(KernelMechanismServer, LeavesOtherMechanismsAlone) {
  KernelMechanismServer element(kNetNs);
  auto request = KernelRequest({{"socketfile", "x"}});
  request.mutable_connection()->mutable_mechanism()->set_type("MEMIF");
  auto conn = Pass(element, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_FALSE(conn->mechanism().parameters().contains("inodeURL"));
  EXPECT_FALSE(conn->mechanism().parameters().contains("name"));
}

TEST(KernelMechanismServer, UsesTheInjectedNameGenerator) {
  KernelMechanismServer element(
      kNetNs, [](const std::string& service) { return service.substr(0, 4) + "-x"; });
  auto conn = Pass(element, KernelRequest({}));
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->mechanism().parameters().at("name"), "icmp-x");
}

}  // namespace
}  // namespace nsmcert::nse
