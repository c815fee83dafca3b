#include "reference/sdk/elements/validate_request.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "google/protobuf/util/message_differencer.h"
#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using ::google::protobuf::util::MessageDifferencer;
using ::testing::HasSubstr;

// What upstream sends: a KERNEL request from cmd-nsc with clientinfo labels and a three-hop path.
networkservice::NetworkServiceRequest UpstreamLikeRequest() {
  networkservice::NetworkServiceRequest request;
  auto* conn = request.mutable_connection();
  conn->set_id("3f1c6d52-8a43-4b8e-9d1e-2c7a5b0e4f11");
  conn->set_network_service("my-networkservice-ip@my.cluster2.example");
  (*conn->mutable_labels())["app"] = "alpine";
  (*conn->mutable_labels())["nodeName"] = std::string(253, 'n');  // longest Kubernetes node name
  (*conn->mutable_labels())["podName"] = std::string(253, 'p');
  (*conn->mutable_labels())[std::string(253, 'd') + "/" + std::string(63, 'k')] = "v";
  for (int i = 0; i < 3; ++i) {
    auto* segment = conn->mutable_path()->add_path_segments();
    segment->set_name("nsmgr-" + std::to_string(i));
    segment->set_id("6a9b1c47-2d3e-4f50-8a61-7b2c3d4e5f6" + std::to_string(i));
    segment->set_token(std::string(1200, 't'));
  }
  conn->mutable_context()->mutable_ip_context()->add_excluded_prefixes("10.96.0.0/12");
  auto* kernel = request.add_mechanism_preferences();
  kernel->set_cls("LOCAL");
  kernel->set_type("KERNEL");
  (*kernel->mutable_parameters())["name"] = "nsm-1";
  (*kernel->mutable_parameters())["inodeURL"] = "inode://4/4026532608";
  return request;
}

class ValidateRequestTest : public ::testing::Test {
 protected:
  absl::StatusOr<connection::Connection> Send(networkservice::NetworkServiceRequest request) {
    Context ctx;
    return chain_->Request(ctx, request);
  }
  absl::Status Close(connection::Connection conn) {
    Context ctx;
    return chain_->Close(ctx, conn);
  }

  std::shared_ptr<testing::Recorder> tail_ = std::make_shared<testing::Recorder>();
  std::shared_ptr<NetworkServiceChain> chain_ =
      testing::MakeChain({std::make_shared<ValidateRequest>(), tail_});
};

TEST_F(ValidateRequestTest, WhatUpstreamSendsPassesUnchanged) {
  auto request = UpstreamLikeRequest();
  auto conn = Send(request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_EQ(tail_->request_count(), 1u);
  EXPECT_TRUE(MessageDifferencer::Equals(tail_->requests()[0], request));
  EXPECT_TRUE(Close(*conn).ok());
  EXPECT_EQ(tail_->close_count(), 1u);
}

TEST_F(ValidateRequestTest, AHugeLabelValueIsRefusedNamingTheFieldAndKey) {
  auto request = UpstreamLikeRequest();
  (*request.mutable_connection()->mutable_labels())["huge"] = std::string(1 << 20, 'x');
  auto conn = Send(request);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr("connection.labels[\"huge\"]"));
  EXPECT_THAT(conn.status().message(), HasSubstr("1048576 bytes, at most 1024"));
  EXPECT_EQ(tail_->request_count(), 0u);
}

TEST_F(ValidateRequestTest, LabelKeysCountAndTotalAreBounded) {
  auto long_key = UpstreamLikeRequest();
  (*long_key.mutable_connection()->mutable_labels())[std::string(318, 'k')] = "v";
  EXPECT_THAT(Send(long_key).status().message(), HasSubstr("key is 318 bytes, at most 317"));

  auto many = UpstreamLikeRequest();
  for (int i = 0; i < 65; ++i) {
    (*many.mutable_connection()->mutable_labels())["k" + std::to_string(i)] = "v";
  }
  EXPECT_THAT(Send(many).status().message(),
              HasSubstr("connection.labels: 69 entries, at most 64"));

  auto big_total = UpstreamLikeRequest();
  for (int i = 0; i < 20; ++i) {
    (*big_total.mutable_connection()->mutable_labels())["k" + std::to_string(i)] =
        std::string(1000, 'v');
  }
  auto refused = Send(big_total);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("connection.labels: keys and values together"));
  EXPECT_EQ(tail_->request_count(), 0u);
}

TEST_F(ValidateRequestTest, AKernelInterfaceNameOfSixteenBytesIsRefused) {
  auto request = UpstreamLikeRequest();
  (*request.mutable_mechanism_preferences(0)->mutable_parameters())["name"] = "nsm-0123456789ab";
  auto conn = Send(request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(conn.status().message(), HasSubstr("mechanism_preferences[0].parameters[\"name\"]"));
  // An empty name lets the server choose one.
  (*request.mutable_mechanism_preferences(0)->mutable_parameters())["name"] = "";
  EXPECT_TRUE(Send(request).ok());
}

TEST_F(ValidateRequestTest, OtherFieldsAreBoundedToo) {
  auto service = UpstreamLikeRequest();
  service.mutable_connection()->set_network_service(std::string(513, 's'));
  EXPECT_THAT(Send(service).status().message(), HasSubstr("connection.network_service:"));

  auto param = UpstreamLikeRequest();
  (*param.mutable_mechanism_preferences(0)->mutable_parameters())["inodeURL"] =
      std::string(4097, 'i');
  EXPECT_THAT(Send(param).status().message(),
              HasSubstr("mechanism_preferences[0].parameters[\"inodeURL\"]: value"));

  auto extra = UpstreamLikeRequest();
  (*extra.mutable_connection()->mutable_context()->mutable_extra_context())["k"] =
      std::string(4097, 'e');
  EXPECT_THAT(Send(extra).status().message(),
              HasSubstr("connection.context.extra_context[\"k\"]: value"));

  auto prefixes = UpstreamLikeRequest();
  for (int i = 0; i < 1025; ++i) {
    prefixes.mutable_connection()->mutable_context()->mutable_ip_context()->add_excluded_prefixes(
        "10.0.0.0/8");
  }
  EXPECT_THAT(Send(prefixes).status().message(),
              HasSubstr("connection.context.ip_context.excluded_prefixes: 1026 entries"));

  auto token = UpstreamLikeRequest();
  token.mutable_connection()->mutable_path()->mutable_path_segments(1)->set_token(
      std::string(9000, 't'));
  EXPECT_THAT(Send(token).status().message(), HasSubstr("connection.path.path_segments[1].token"));
  EXPECT_EQ(tail_->request_count(), 0u);
}

TEST_F(ValidateRequestTest, ACloseWithOversizedInputIsRefusedToo) {
  connection::Connection conn = UpstreamLikeRequest().connection();
  (*conn.mutable_labels())["huge"] = std::string(2000, 'x');
  absl::Status closed = Close(conn);
  EXPECT_EQ(closed.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(closed.message(), HasSubstr("connection.labels[\"huge\"]"));
  EXPECT_EQ(tail_->close_count(), 0u);
}

TEST(ValidateRequestLimits, AreConfigurable) {
  RequestLimits limits;
  limits.max_label_value_bytes = 63;  // Kubernetes' own rule
  auto request = UpstreamLikeRequest();
  EXPECT_THAT(ValidateNetworkServiceRequest(request, limits).message(),
              HasSubstr("value is 253 bytes, at most 63"));
  EXPECT_TRUE(ValidateNetworkServiceRequest(request, RequestLimits{}).ok());
}

}  // namespace
}  // namespace nsmcert::sdk
