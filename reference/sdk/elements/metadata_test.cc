#include "reference/sdk/elements/metadata.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

struct Counter {
  int value = 0;
};

// Counts calls per connection in the server-side (or client-side) map.
class CountsPerConnection : public NetworkServiceElement {
 public:
  explicit CountsPerConnection(bool client_side) : client_side_(client_side) {}
  int last = -1;
  bool saw_map_on_close = false;
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto map = ctx.connection_metadata(client_side_);
    if (map == nullptr) return absl::InternalError("no metadata");
    last = ++map->GetOrCreate<Counter>()->value;
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    saw_map_on_close = ctx.connection_metadata(client_side_) != nullptr;
    return next.Close(ctx, conn);
  }

 private:
  bool client_side_;
};

networkservice::NetworkServiceRequest RequestFor(const std::string& id) {
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id(id);
  return request;
}

TEST(ConnectionMetadata, KeepsStatePerConnectionAcrossRequestsAndDropsItOnClose) {
  auto metadata = std::make_shared<ConnectionMetadata>();
  auto counter = std::make_shared<CountsPerConnection>(false);
  auto chain = MakeChain({metadata, counter});
  Context ctx;
  auto a1 = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, a1).ok());
  EXPECT_EQ(counter->last, 1);
  auto a2 = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, a2).ok());
  EXPECT_EQ(counter->last, 2);
  auto b = RequestFor("b");
  ASSERT_TRUE(chain->Request(ctx, b).ok());
  EXPECT_EQ(counter->last, 1);
  EXPECT_EQ(metadata->size(), 2u);

  // The caller's context is left as it was.
  EXPECT_EQ(ctx.connection_metadata(false), nullptr);

  connection::Connection conn;
  conn.set_id("a");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_TRUE(counter->saw_map_on_close);
  EXPECT_EQ(metadata->size(), 1u);
  auto a3 = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, a3).ok());
  EXPECT_EQ(counter->last, 1);  // a fresh map after Close
}

TEST(ConnectionMetadata, ServerAndClientSideMapsAreSeparate) {
  auto server = std::make_shared<CountsPerConnection>(false);
  auto client = std::make_shared<CountsPerConnection>(true);
  auto chain = MakeChain({std::make_shared<ConnectionMetadata>(), server, client});
  Context ctx;
  auto r1 = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, r1).ok());
  auto r2 = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, r2).ok());
  EXPECT_EQ(server->last, 2);
  EXPECT_EQ(client->last, 2);
}

TEST(ConnectionMetadata, AFailedFirstRequestDropsTheMapAFailedRefreshKeepsIt) {
  auto metadata = std::make_shared<ConnectionMetadata>();
  auto counter = std::make_shared<CountsPerConnection>(false);
  auto tail = std::make_shared<Recorder>();
  bool fail = true;
  tail->on_request = [&](Context&, networkservice::NetworkServiceRequest&) {
    return fail ? absl::UnavailableError("down") : absl::OkStatus();
  };
  auto chain = MakeChain({metadata, counter, tail});
  Context ctx;
  auto r1 = RequestFor("a");
  EXPECT_FALSE(chain->Request(ctx, r1).ok());
  EXPECT_EQ(metadata->size(), 0u);
  fail = false;
  auto r2 = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, r2).ok());
  EXPECT_EQ(counter->last, 1);
  fail = true;
  auto r3 = RequestFor("a");
  EXPECT_FALSE(chain->Request(ctx, r3).ok());
  EXPECT_EQ(metadata->size(), 1u);
  EXPECT_EQ(counter->last, 2);
}

TEST(ConnectionMetadata, ANestedMetadataSharesTheOuterRecord) {
  auto outer = std::make_shared<ConnectionMetadata>();
  auto inner = std::make_shared<ConnectionMetadata>();
  auto before = std::make_shared<CountsPerConnection>(true);
  auto after = std::make_shared<CountsPerConnection>(true);
  auto chain = MakeChain({outer, before, inner, after});
  Context ctx;
  auto r = RequestFor("a");
  ASSERT_TRUE(chain->Request(ctx, r).ok());
  EXPECT_EQ(before->last, 1);
  EXPECT_EQ(after->last, 2);  // the same client-side map
  EXPECT_EQ(inner->size(), 0u);
}

TEST(ConnectionMetadata, CloseOfAnUnknownIdStillGivesMaps) {
  auto counter = std::make_shared<CountsPerConnection>(false);
  auto chain = MakeChain({std::make_shared<ConnectionMetadata>(), counter});
  Context ctx;
  connection::Connection conn;
  conn.set_id("unknown");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_TRUE(counter->saw_map_on_close);
}

}  // namespace
}  // namespace nsmcert::sdk
