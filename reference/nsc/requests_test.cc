#include "reference/nsc/requests.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace nsmcert::nsc {
namespace {

TEST(BuildRequests, OneRequestPerNsUrl) {
  auto requests = BuildRequests(
      "nsc", {"kernel://icmp-responder/nsm-1?color=red", "kernel://other@domain.example"},
      {{"app", "nsc"}, {"color", "blue"}});
  ASSERT_TRUE(requests.ok()) << requests.status();
  ASSERT_EQ(requests->size(), 2u);

  const auto& first = (*requests)[0];
  EXPECT_EQ(first.connection().id(), "nsc-0");
  EXPECT_EQ(first.connection().network_service(), "icmp-responder");
  EXPECT_EQ(first.connection().labels().at("app"), "nsc");
  EXPECT_EQ(first.connection().labels().at("color"), "red") << "the NSURL's labels win";
  ASSERT_EQ(first.mechanism_preferences_size(), 1);
  EXPECT_EQ(first.mechanism_preferences(0).cls(), "LOCAL");
  EXPECT_EQ(first.mechanism_preferences(0).type(), "KERNEL");
  EXPECT_EQ(first.mechanism_preferences(0).parameters().at("name"), "nsm-1");
  EXPECT_TRUE(first.connection().path().path_segments().empty()) << "updatepath starts the path";

  const auto& second = (*requests)[1];
  EXPECT_EQ(second.connection().id(), "nsc-1");
  EXPECT_EQ(second.connection().network_service(), "other@domain.example");
  EXPECT_EQ(second.connection().labels().at("color"), "blue");
  EXPECT_FALSE(second.mechanism_preferences(0).parameters().contains("name"));
}

TEST(BuildRequests, NamesTheBadEntry) {
  auto requests = BuildRequests("nsc", {"kernel://ok", "kernel://svc/this-name-is-too-long"}, {});
  ASSERT_FALSE(requests.ok());
  EXPECT_EQ(requests.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(requests.status().message().find("network service 1"), std::string::npos)
      << requests.status();
  EXPECT_NE(requests.status().message().find("this-name-is-too-long"), std::string::npos);
  EXPECT_FALSE(BuildRequests("nsc", {}, {}).ok());
}

TEST(ConnectionsJson, AnArrayOfProtobufJson) {
  connection::Connection a;
  a.set_id("nsc-0");
  a.set_network_service("icmp-responder");
  a.mutable_context()->mutable_ip_context()->add_src_ip_addrs("172.16.1.101/32");
  connection::Connection b;
  b.set_id("nsc-1");
  auto parsed = nlohmann::json::parse(ConnectionsJson({a, b}));
  ASSERT_TRUE(parsed.is_array());
  ASSERT_EQ(parsed.size(), 2u);
  EXPECT_EQ(parsed[0]["id"], "nsc-0");
  EXPECT_EQ(parsed[0]["networkService"], "icmp-responder");
  EXPECT_EQ(parsed[0]["context"]["ipContext"]["srcIpAddrs"][0], "172.16.1.101/32");
  EXPECT_EQ(parsed[1]["id"], "nsc-1");
  EXPECT_EQ(ConnectionsJson({}), "[]");
}

}  // namespace
}  // namespace nsmcert::nsc
