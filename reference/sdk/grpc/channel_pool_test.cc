#include "reference/sdk/grpc/channel_pool.h"

#include <gtest/gtest.h>

namespace nsmcert::sdk {
namespace {

TEST(GrpcTarget, ConvertsNsmUrls) {
  EXPECT_EQ(*GrpcTarget("unix:///var/lib/nsm/nsm.io.sock"), "unix:/var/lib/nsm/nsm.io.sock");
  EXPECT_EQ(*GrpcTarget("tcp://10.0.0.1:5001"), "10.0.0.1:5001");
  EXPECT_EQ(*GrpcTarget("tcp://[fd00::1]:5001"), "[fd00::1]:5001");
}

TEST(GrpcTarget, RejectsOtherSchemesAndMalformedUrls) {
  EXPECT_EQ(GrpcTarget("http://x:1").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GrpcTarget("unix://relative").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GrpcTarget("tcp://nohostport").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(GrpcTarget("ftp://a").status().message().find("ftp://a"), std::string::npos);
}

TEST(ChannelPool, SharesChannelsPerUrlUntilForgotten) {
  ChannelPool pool;
  auto a = pool.Get("tcp://127.0.0.1:1");
  auto b = pool.Get("tcp://127.0.0.1:1");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get());
  pool.Forget("tcp://127.0.0.1:1");
  auto c = pool.Get("tcp://127.0.0.1:1");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(a->get(), c->get());
  EXPECT_FALSE(pool.Get("bogus").ok());
}

}  // namespace
}  // namespace nsmcert::sdk
