#include "reference/sdk/elements/monitor.h"

#include <gtest/gtest.h>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

constexpr absl::Duration kWait = absl::Seconds(5);

TEST(MonitorServer, PublishesUpdateOnSuccessAndDeleteOnClose) {
  auto monitor = std::make_shared<ConnectionMonitor>();
  auto chain = MakeChain({std::make_shared<MonitorServer>(monitor), std::make_shared<Recorder>()});
  auto sub = monitor->Subscribe({});
  ASSERT_TRUE(sub->Next(kWait).has_value());

  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  request.mutable_connection()->set_network_service("svc");
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  auto update = sub->Next(kWait);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->type(), connection::UPDATE);
  EXPECT_EQ(update->connections().at("c1").network_service(), "svc");
  EXPECT_TRUE(monitor->Find("c1").has_value());

  ASSERT_TRUE(chain->Close(ctx, *conn).ok());
  auto del = sub->Next(kWait);
  ASSERT_TRUE(del.has_value());
  EXPECT_EQ(del->type(), connection::DELETE);
  EXPECT_TRUE(del->connections().contains("c1"));
  EXPECT_TRUE(monitor->Connections().empty());
}

TEST(MonitorServer, AReselectRequestIsPublishedUp) {
  auto monitor = std::make_shared<ConnectionMonitor>();
  auto chain = MakeChain({std::make_shared<MonitorServer>(monitor), std::make_shared<Recorder>()});
  auto sub = monitor->Subscribe({});
  ASSERT_TRUE(sub->Next(kWait).has_value());
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  request.mutable_connection()->set_state(connection::RESELECT_REQUESTED);
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  auto update = sub->Next(kWait);
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->connections().at("c1").state(), connection::UP);
  EXPECT_EQ(monitor->Find("c1")->state(), connection::UP);
}

TEST(MonitorServer, AFailedRequestPublishesNothing) {
  auto monitor = std::make_shared<ConnectionMonitor>();
  auto chain = MakeChain(
      {std::make_shared<MonitorServer>(monitor), std::make_shared<testing::FailsAfterNext>()});
  auto sub = monitor->Subscribe({});
  ASSERT_TRUE(sub->Next(kWait).has_value());
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  EXPECT_FALSE(chain->Request(ctx, request).ok());
  EXPECT_FALSE(sub->Next(absl::Milliseconds(20)).has_value());
  EXPECT_TRUE(monitor->Connections().empty());
}

TEST(MonitorServer, ACloseThatFailsDownstreamStillDeletes) {
  auto monitor = std::make_shared<ConnectionMonitor>();
  auto tail = std::make_shared<Recorder>();
  tail->on_close = [](Context&, connection::Connection&) { return absl::UnavailableError("gone"); };
  auto chain = MakeChain({std::make_shared<MonitorServer>(monitor), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("c1");
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  EXPECT_FALSE(chain->Close(ctx, *conn).ok());
  EXPECT_TRUE(monitor->Connections().empty());
}

}  // namespace
}  // namespace nsmcert::sdk
