#include "reference/forwarder/kernel_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "reference/forwarder/testing.h"
#include "reference/sdk/elements/mechanisms.h"

namespace nsmcert::forwarder {
namespace {

using ::testing::HasSubstr;

// Knows a fixed set of references; resolves them to the test's own namespace.
class FakeResolver : public kernel::NetNsResolver {
 public:
  explicit FakeResolver(std::set<std::string> known) : known_(std::move(known)) {}
  absl::StatusOr<kernel::NetNs> Resolve(std::string_view ref) override {
    if (!known_.contains(std::string(ref))) {
      return absl::NotFoundError(absl::StrCat("no network namespace matches ", std::string(ref)));
    }
    return kernel::NetNs::Current();
  }

 private:
  std::set<std::string> known_;
};

class KernelServerTest : public ::testing::Test {
 protected:
  KernelServerTest() : resolver_({"inode://4/4026531999"}) {
    sink_ = std::make_shared<testing::Sink>();
    chain_ = testing::Chain({std::make_shared<sdk::Mechanisms>(
                                 std::map<std::string, std::shared_ptr<sdk::NetworkServiceElement>>{
                                     {"KERNEL", std::make_shared<KernelServer>(&resolver_)}}),
                             sink_});
  }

  absl::StatusOr<connection::Connection> Send(std::map<std::string, std::string> params,
                                              std::string type = "KERNEL") {
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("c");
    request.mutable_connection()->set_network_service("icmp-responder");
    auto* m = request.add_mechanism_preferences();
    m->set_cls("LOCAL");
    m->set_type(type);
    for (auto& [k, v] : params) (*m->mutable_parameters())[k] = v;
    sdk::Context ctx;
    return chain_->Request(ctx, request);
  }

  FakeResolver resolver_;
  std::shared_ptr<testing::Sink> sink_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
};

TEST_F(KernelServerTest, AValidMechanismIsChosenAndPassedOn) {
  auto conn = Send({{"inodeURL", "inode://4/4026531999"}, {"name", "nsm-1"}});
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->mechanism().type(), "KERNEL");
  EXPECT_EQ(conn->mechanism().parameters().at("name"), "nsm-1");
  EXPECT_EQ(sink_->requests().size(), 1u);
}

TEST_F(KernelServerTest, AMissingNameIsGeneratedFromTheServiceName) {
  auto conn = Send({{"inodeURL", "inode://4/4026531999"}});
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string& name = conn->mechanism().parameters().at("name");
  EXPECT_EQ(name.size(), 15u);
  EXPECT_TRUE(name.starts_with("icmp-respo-")) << name;
}

struct BadCase {
  const char* label;
  std::map<std::string, std::string> params;
  const char* names;                                           // what the message must name
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;  // kept through mechanisms
};

class KernelServerBadParamsTest : public KernelServerTest,
                                  public ::testing::WithParamInterface<BadCase> {};

TEST_P(KernelServerBadParamsTest, IsRefusedNamingTheParameterBeforeAnythingRuns) {
  auto conn = Send(GetParam().params);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), GetParam().code) << conn.status();
  EXPECT_THAT(conn.status().message(), HasSubstr(GetParam().names));
  EXPECT_TRUE(sink_->requests().empty());
}

INSTANTIATE_TEST_SUITE_P(
    Params, KernelServerBadParamsTest,
    ::testing::Values(BadCase{"NameTooLong",
                              {{"inodeURL", "inode://4/4026531999"}, {"name", "a-name-of-16-byt"}},
                              "KERNEL mechanism parameter name"},
                      BadCase{"NameWithSlash",
                              {{"inodeURL", "inode://4/4026531999"}, {"name", "a/b"}},
                              "parameter name"},
                      BadCase{"MissingNetns", {{"name", "nsm-1"}}, "parameter inodeURL: missing"},
                      BadCase{"NetnsNotAUrl",
                              {{"inodeURL", "my-netns"}, {"name", "nsm-1"}},
                              "parameter inodeURL"},
                      BadCase{"NetnsUnknown",
                              {{"inodeURL", "inode://4/1"}, {"name", "nsm-1"}},
                              "inode://4/1",
                              absl::StatusCode::kNotFound}),
    [](const ::testing::TestParamInfo<BadCase>& info) { return info.param.label; });

TEST_F(KernelServerTest, AnUnknownMechanismTypeIsRefusedByName) {
  auto conn = Send({{"inodeURL", "inode://4/4026531999"}}, "SOCKS");
  ASSERT_FALSE(conn.ok());
  EXPECT_THAT(conn.status().message(), HasSubstr("SOCKS"));
  EXPECT_TRUE(sink_->requests().empty());
}

}  // namespace
}  // namespace nsmcert::forwarder
