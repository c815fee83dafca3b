#include "reference/sdk/elements/clienturl.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::sdk {
namespace {

TEST(ClientUrlElement, TheNextHopSeesTheUrlOnRequestAndClose) {
  auto tail = std::make_shared<testing::Recorder>();
  std::vector<std::string> seen;
  tail->on_request = [&](Context& ctx, networkservice::NetworkServiceRequest&) {
    seen.push_back(ctx.values().Get<ClientUrl>()->url);
    return absl::OkStatus();
  };
  tail->on_close = [&](Context& ctx, connection::Connection&) {
    seen.push_back(ctx.values().Get<ClientUrl>()->url);
    return absl::OkStatus();
  };
  auto chain =
      testing::MakeChain({std::make_shared<ClientUrlElement>("unix:///run/nsm/nsm.sock"), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  Context close_ctx;
  ASSERT_TRUE(chain->Close(close_ctx, *conn).ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"unix:///run/nsm/nsm.sock", "unix:///run/nsm/nsm.sock"}));
}

}  // namespace
}  // namespace nsmcert::sdk
