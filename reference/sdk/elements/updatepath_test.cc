#include "reference/sdk/elements/updatepath.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

tools::IdGenerator Counter(std::string prefix) {
  auto n = std::make_shared<int>(0);
  return [n, prefix] { return prefix + std::to_string(++*n); };
}

TEST(UpdatePath, AnEmptyPathStartsWithThisHop) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<UpdatePath>("nsc", Counter("id-")), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->id(), "id-1");
  EXPECT_EQ(conn->path().index(), 0u);
  ASSERT_EQ(conn->path().path_segments_size(), 1);
  EXPECT_EQ(conn->path().path_segments(0).name(), "nsc");
  EXPECT_EQ(conn->path().path_segments(0).id(), "id-1");
}

TEST(UpdatePath, AServerHopAppendsItsSegmentAndRestoresTheCallersView) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<UpdatePath>("nsmgr", Counter("m-")), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto* conn = request.mutable_connection();
  conn->set_id("nsc-1");
  auto* seg = conn->mutable_path()->add_path_segments();
  seg->set_name("nsc");
  seg->set_id("nsc-1");
  auto result = chain->Request(ctx, request);
  ASSERT_TRUE(result.ok()) << result.status();
  // Downstream saw this hop's view.
  auto seen = tail->requests()[0].connection();
  EXPECT_EQ(seen.id(), "m-1");
  EXPECT_EQ(seen.path().index(), 1u);
  // The caller gets the whole path back with its own id and index.
  EXPECT_EQ(result->id(), "nsc-1");
  EXPECT_EQ(result->path().index(), 0u);
  EXPECT_EQ(result->path().path_segments_size(), 2);

  // A refresh with the returned path keeps this hop's id.
  networkservice::NetworkServiceRequest refresh;
  *refresh.mutable_connection() = *result;
  ASSERT_TRUE(chain->Request(ctx, refresh).ok());
  EXPECT_EQ(tail->requests()[1].connection().id(), "m-1");
}

TEST(UpdatePath, AConnectionIdThatIsNotTheCallersSegmentIsRefused) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<UpdatePath>("nsmgr"), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("forged");
  auto* seg = request.mutable_connection()->mutable_path()->add_path_segments();
  seg->set_name("nsc");
  seg->set_id("nsc-1");
  auto conn = chain->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(conn.status().message()).find("updatepath (nsmgr)"), std::string::npos);
  EXPECT_EQ(tail->request_count(), 0u);
}

TEST(UpdatePath, CloseUpdatesThePathForTheRestAndRestoresTheCallersObject) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<UpdatePath>("nsmgr"), tail});
  Context ctx;
  connection::Connection conn;
  conn.set_id("nsc-1");
  conn.mutable_path()->set_index(0);
  auto* s0 = conn.mutable_path()->add_path_segments();
  s0->set_name("nsc");
  s0->set_id("nsc-1");
  auto* s1 = conn.mutable_path()->add_path_segments();
  s1->set_name("nsmgr");
  s1->set_id("m-7");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->closes()[0].id(), "m-7");
  EXPECT_EQ(tail->closes()[0].path().index(), 1u);
  EXPECT_EQ(conn.id(), "nsc-1");
  EXPECT_EQ(conn.path().index(), 0u);
}

TEST(UpdatePath, APathBrokenDownstreamIsClosedAndReported) {
  class Truncate : public NetworkServiceElement {
   public:
    absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                   networkservice::NetworkServiceRequest& request,
                                                   const NetworkServiceNext& next) override {
      auto conn = next.Request(ctx, request);
      if (conn.ok()) conn->mutable_path()->clear_path_segments();
      return conn;
    }
  };
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<UpdatePath>("nsc"), std::make_shared<Truncate>(), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  EXPECT_EQ(chain->Request(ctx, request).status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(tail->close_count(), 1u);
}

}  // namespace
}  // namespace nsmcert::sdk
