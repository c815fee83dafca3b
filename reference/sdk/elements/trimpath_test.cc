#include "reference/sdk/elements/trimpath.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;

// Returns a path longer than this hop's segment, as a stale refresh would carry.
networkservice::NetworkServiceRequest WithStaleTail() {
  networkservice::NetworkServiceRequest request;
  auto* path = request.mutable_connection()->mutable_path();
  path->set_index(1);
  for (const char* name : {"nsc", "nse", "stale-1", "stale-2"}) {
    path->add_path_segments()->set_name(name);
  }
  return request;
}

TEST(TrimPath, AServerThatDidNotForwardDropsSegmentsAfterItsOwn) {
  auto chain = MakeChain({std::make_shared<TrimPathServer>()});
  Context ctx;
  auto request = WithStaleTail();
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  ASSERT_EQ(conn->path().path_segments_size(), 2);
  EXPECT_EQ(conn->path().path_segments(1).name(), "nse");
}

TEST(TrimPath, AServerWhoseClientForwardedKeepsThePath) {
  auto chain = MakeChain({std::make_shared<TrimPathServer>(), std::make_shared<TrimPathClient>()});
  Context ctx;
  auto request = WithStaleTail();
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->path().path_segments_size(), 4);
  // The mark does not leak into the next call on the same context.
  auto server_only = MakeChain({std::make_shared<TrimPathServer>()});
  auto again = WithStaleTail();
  EXPECT_EQ(server_only->Request(ctx, again)->path().path_segments_size(), 2);
}

}  // namespace
}  // namespace nsmcert::sdk
