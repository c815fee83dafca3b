#include "reference/sdk/elements/begin.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "reference/sdk/elements/test_elements.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;

networkservice::NetworkServiceRequest RequestFor(const std::string& id) {
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id(id);
  request.mutable_connection()->set_network_service("svc");
  return request;
}

// Keeps the factory of the last call it saw.
class FactoryGrabber : public NetworkServiceElement {
 public:
  std::weak_ptr<EventFactory> factory;
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    factory = EventFactory::FromContext(ctx);
    return next.Request(ctx, request);
  }
};

TEST(Begin, RejectsAnEmptyConnectionId) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  EXPECT_EQ(chain->Request(ctx, request).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(tail->request_count(), 0u);
}

TEST(Begin, ServerReturnsStateUpAndKeepsTheConnection) {
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({begin, tail});
  Context ctx;
  auto request = RequestFor("c1");
  request.mutable_connection()->set_state(connection::DOWN);
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->state(), connection::UP);
  EXPECT_EQ(begin->size(), 1u);
  ASSERT_TRUE(chain->Close(ctx, *conn).ok());
  EXPECT_EQ(begin->size(), 0u);
}

TEST(Begin, SecondRequestForAnEstablishedIdIsARefresh) {
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({begin, tail});
  Context ctx;
  auto r1 = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, r1).ok());
  auto r2 = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, r2).ok());
  EXPECT_EQ(tail->request_count(), 2u);
  EXPECT_EQ(begin->size(), 1u);
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
}

TEST(Begin, CloseAfterCloseAndCloseOfAnUnknownIdAreNoOps) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(), tail});
  Context ctx;
  auto request = RequestFor("c1");
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE(chain->Close(ctx, *conn).ok());
  ASSERT_TRUE(chain->Close(ctx, *conn).ok());
  connection::Connection unknown;
  unknown.set_id("never-seen");
  ASSERT_TRUE(chain->Close(ctx, unknown).ok());
  EXPECT_EQ(tail->close_count(), 1u);
}

TEST(Begin, CloseUsesTheLastReturnedConnection) {
  // A downstream element adds a label on the way back; the caller closes with a bare connection.
  class Labeler : public NetworkServiceElement {
   public:
    absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                   networkservice::NetworkServiceRequest& request,
                                                   const NetworkServiceNext& next) override {
      auto conn = next.Request(ctx, request);
      if (conn.ok()) (*conn->mutable_labels())["downstream"] = "yes";
      return conn;
    }
  };
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(), std::make_shared<Labeler>(), tail});
  Context ctx;
  auto request = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  connection::Connection bare;
  bare.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, bare).ok());
  ASSERT_EQ(tail->close_count(), 1u);
  EXPECT_EQ(tail->closes()[0].labels().at("downstream"), "yes");
}

TEST(Begin, AFailedFirstRequestLeavesNoState) {
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  tail->on_request = [](Context&, networkservice::NetworkServiceRequest&) {
    return absl::UnavailableError("down");
  };
  auto chain = MakeChain({begin, tail});
  Context ctx;
  auto request = RequestFor("c1");
  EXPECT_FALSE(chain->Request(ctx, request).ok());
  EXPECT_EQ(begin->size(), 0u);
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->close_count(), 0u);
}

// Moves the clock while a Request passes, as a slow rest of the path does.
class SlowStep : public NetworkServiceElement {
 public:
  SlowStep(FakeClock& clock, absl::Duration delay) : clock_(clock), delay_(delay) {}
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto conn = next.Request(ctx, request);
    clock_.Advance(delay_);
    return conn;
  }

 private:
  FakeClock& clock_;
  absl::Duration delay_;
};

TEST(Begin, ANewConnectionWhoseCallerGaveUpMeanwhileIsUndone) {
  FakeClock clock;
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  absl::Duration close_budget;
  tail->on_close = [&](Context& ctx, connection::Connection&) {
    close_budget = ctx.Remaining();
    return absl::OkStatus();
  };
  auto chain = MakeChain({begin, std::make_shared<SlowStep>(clock, absl::Seconds(2)), tail});
  Context ctx(clock);
  ctx.set_deadline(clock.Now() + absl::Seconds(1));
  auto request = RequestFor("c1");
  auto conn = chain->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kDeadlineExceeded);
  ASSERT_EQ(tail->close_count(), 1u);
  EXPECT_EQ(close_budget, absl::Seconds(15)) << "the undo has time of its own";
  EXPECT_EQ(tail->closes()[0].id(), "c1");
  EXPECT_EQ(begin->size(), 0u);
}

TEST(Begin, ALateRefreshAnswerKeepsTheConnection) {
  FakeClock clock;
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({begin, tail});
  Context first(clock);
  first.set_deadline(clock.Now() + absl::Seconds(1));
  auto request = RequestFor("c1");
  auto conn = chain->Request(first, request);
  ASSERT_TRUE(conn.ok());
  // The refresh comes back after its caller's deadline: the caller keeps the connection (its own
  // begin is established), so this hop must keep it too.
  auto slow_chain = MakeChain({begin, std::make_shared<SlowStep>(clock, absl::Seconds(2)), tail});
  Context refresh(clock);
  refresh.set_deadline(clock.Now() + absl::Seconds(1));
  networkservice::NetworkServiceRequest again;
  *again.mutable_connection() = *conn;
  EXPECT_TRUE(slow_chain->Request(refresh, again).ok());
  EXPECT_EQ(tail->close_count(), 0u);
  EXPECT_EQ(begin->size(), 1u);
  Context close(clock);
  ASSERT_TRUE(slow_chain->Close(close, *conn).ok());
}

TEST(Begin, AFailedRefreshKeepsTheEstablishedConnection) {
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({begin, tail});
  Context ctx;
  auto r1 = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, r1).ok());
  tail->on_request = [](Context&, networkservice::NetworkServiceRequest&) {
    return absl::UnavailableError("down");
  };
  auto r2 = RequestFor("c1");
  EXPECT_FALSE(chain->Request(ctx, r2).ok());
  EXPECT_EQ(begin->size(), 1u);
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->close_count(), 1u);
}

TEST(Begin, ServerClosesTheOldPathOnReselectRequested) {
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(), tail});
  Context ctx;
  auto r1 = RequestFor("c1");
  r1.mutable_connection()->set_network_service_endpoint_name("nse-1");
  ASSERT_TRUE(chain->Request(ctx, r1).ok());
  auto r2 = RequestFor("c1");
  r2.mutable_connection()->set_state(connection::RESELECT_REQUESTED);
  ASSERT_TRUE(chain->Request(ctx, r2).ok());
  ASSERT_EQ(tail->close_count(), 1u);
  EXPECT_EQ(tail->closes()[0].network_service_endpoint_name(), "nse-1");
  EXPECT_EQ(tail->request_count(), 2u);
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->close_count(), 2u);
}

TEST(Begin, ConcurrentRequestsForOneIdNeverInterleave) {
  std::atomic<int> inside{0};
  std::atomic<bool> overlapped{false};
  auto tail = std::make_shared<Recorder>();
  tail->on_request = [&](Context&, networkservice::NetworkServiceRequest&) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    std::this_thread::yield();
    inside.fetch_sub(1);
    return absl::OkStatus();
  };
  auto chain = MakeChain({std::make_shared<Begin>(), tail});
  constexpr int kThreads = 8, kCalls = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kCalls; ++i) {
        Context ctx;
        auto request = RequestFor("shared");
        EXPECT_TRUE(chain->Request(ctx, request).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(overlapped);
  EXPECT_EQ(tail->request_count(), size_t{kThreads * kCalls});
  Context ctx;
  connection::Connection conn;
  conn.set_id("shared");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
}

TEST(Begin, DifferentIdsRunConcurrently) {
  std::mutex mu;
  std::condition_variable cv;
  bool first_inside = false, release_first = false;
  auto tail = std::make_shared<Recorder>();
  tail->on_request = [&](Context&, networkservice::NetworkServiceRequest& request) {
    if (request.connection().id() != "blocked") return absl::OkStatus();
    std::unique_lock lock(mu);
    first_inside = true;
    cv.notify_all();
    cv.wait(lock, [&] { return release_first; });
    return absl::OkStatus();
  };
  auto chain = MakeChain({std::make_shared<Begin>(), tail});
  std::thread blocked([&] {
    Context ctx;
    auto request = RequestFor("blocked");
    EXPECT_TRUE(chain->Request(ctx, request).ok());
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return first_inside; });
  }
  // Completes although "blocked" is still inside the chain.
  Context ctx;
  auto other = RequestFor("other");
  EXPECT_TRUE(chain->Request(ctx, other).ok());
  {
    std::lock_guard lock(mu);
    release_first = true;
  }
  cv.notify_all();
  blocked.join();
  for (const char* id : {"blocked", "other"}) {
    connection::Connection conn;
    conn.set_id(id);
    ASSERT_TRUE(chain->Close(ctx, conn).ok());
  }
}

TEST(Begin, EventFactoryClosesAndRefreshesThroughTheRestOfTheChain) {
  auto begin = std::make_shared<Begin>();
  auto grabber = std::make_shared<FactoryGrabber>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({begin, grabber, tail});
  Context ctx;
  auto request = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  auto factory = grabber->factory.lock();
  ASSERT_NE(factory, nullptr);

  ASSERT_TRUE(factory->Request().ok());
  EXPECT_EQ(tail->request_count(), 2u);
  // The event itself runs with the factory in its context, so elements can fire again later.
  EXPECT_EQ(grabber->factory.lock(), factory);

  ASSERT_TRUE(factory->Close().ok());
  EXPECT_EQ(tail->close_count(), 1u);
  EXPECT_EQ(begin->size(), 0u);
  factory.reset();
  EXPECT_TRUE(grabber->factory.expired());

  // The connection is gone: the caller's Close is a no-op.
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->close_count(), 1u);
}

TEST(Begin, EventsCarryTheBudgetOfTheRequest) {
  FakeClock clock;
  auto grabber = std::make_shared<FactoryGrabber>();
  auto tail = std::make_shared<Recorder>();
  absl::Duration seen = absl::ZeroDuration();
  tail->on_request = [&](Context& ctx, networkservice::NetworkServiceRequest&) {
    seen = ctx.Remaining();
    return absl::OkStatus();
  };
  auto chain = MakeChain({std::make_shared<Begin>(), grabber, tail});
  Context ctx(clock);
  ctx.set_deadline(clock.Now() + absl::Seconds(15));
  auto request = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  clock.Advance(absl::Minutes(3));
  ASSERT_TRUE(grabber->factory.lock()->Request().ok());
  EXPECT_EQ(seen, absl::Seconds(15));
  ASSERT_TRUE(grabber->factory.lock()->Close().ok());
}

TEST(Begin, CancelledEventsDoNothing) {
  auto grabber = std::make_shared<FactoryGrabber>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(), grabber, tail});
  Context ctx;
  auto request = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  auto factory = grabber->factory.lock();
  EventOptions cancelled;
  cancelled.cancelled = [] { return true; };
  ASSERT_TRUE(factory->Close(cancelled).ok());
  EXPECT_EQ(tail->close_count(), 0u);
  ASSERT_TRUE(factory->Close().ok());
  EXPECT_EQ(tail->close_count(), 1u);
}

TEST(Begin, AnEventFromInsideACallForTheSameConnectionIsRefused) {
  auto tail = std::make_shared<Recorder>();
  absl::Status inner = absl::OkStatus();
  tail->on_request = [&](Context& ctx, networkservice::NetworkServiceRequest&) {
    inner = EventFactory::FromContext(ctx)->Close();
    return absl::OkStatus();
  };
  auto chain = MakeChain({std::make_shared<Begin>(), tail});
  Context ctx;
  auto request = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  EXPECT_EQ(inner.code(), absl::StatusCode::kFailedPrecondition);
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->close_count(), 1u);
}

TEST(Begin, ANestedBeginPassesCallsThrough) {
  auto outer = std::make_shared<Begin>();
  auto inner = std::make_shared<Begin>(Begin::Side::kClient);
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({outer, inner, tail});
  Context ctx;
  auto request = RequestFor("c1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  EXPECT_EQ(inner->size(), 0u);
  EXPECT_EQ(outer->size(), 1u);
  connection::Connection conn;
  conn.set_id("c1");
  ASSERT_TRUE(chain->Close(ctx, conn).ok());
  EXPECT_EQ(tail->close_count(), 1u);
}

TEST(Begin, ClientRefreshReusesTheReturnedConnectionButTakesChangedFields) {
  class Endpoint : public NetworkServiceElement {
   public:
    absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                   networkservice::NetworkServiceRequest& request,
                                                   const NetworkServiceNext& next) override {
      auto* conn = request.mutable_connection();
      conn->mutable_mechanism()->set_type("KERNEL");
      if (conn->network_service_endpoint_name().empty()) {
        conn->set_network_service_endpoint_name("nse-1");
      }
      (*conn->mutable_context()->mutable_extra_context())["from-nse"] = "1";
      return next.Request(ctx, request);
    }
  };
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain(
      {std::make_shared<Begin>(Begin::Side::kClient), tail, std::make_shared<Endpoint>()});
  Context ctx;
  auto r1 = RequestFor("c1");
  auto first = chain->Request(ctx, r1);
  ASSERT_TRUE(first.ok());

  // The caller re-sends what it got back, minus the mechanism: the returned mechanism is reused.
  networkservice::NetworkServiceRequest r2;
  *r2.mutable_connection() = *first;
  r2.mutable_connection()->clear_mechanism();
  ASSERT_TRUE(chain->Request(ctx, r2).ok());
  auto sent = tail->requests().back().connection();
  EXPECT_EQ(sent.mechanism().type(), "KERNEL");
  EXPECT_EQ(sent.network_service_endpoint_name(), "nse-1");

  // The caller changes the endpoint and adds extra context: those win.
  networkservice::NetworkServiceRequest r3;
  *r3.mutable_connection() = *first;
  r3.mutable_connection()->set_network_service_endpoint_name("nse-2");
  (*r3.mutable_connection()->mutable_context()->mutable_extra_context())["mine"] = "x";
  ASSERT_TRUE(chain->Request(ctx, r3).ok());
  sent = tail->requests().back().connection();
  EXPECT_EQ(sent.network_service_endpoint_name(), "nse-2");
  EXPECT_EQ(sent.context().extra_context().at("mine"), "x");
  EXPECT_EQ(sent.context().extra_context().at("from-nse"), "1");
  ASSERT_TRUE(chain->Close(ctx, *first).ok());
}

TEST(Begin, ClientReselectClosesThenRequestsWithoutMechanismAndEndpoint) {
  auto grabber = std::make_shared<FactoryGrabber>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(Begin::Side::kClient), grabber, tail});
  Context ctx;
  auto request = RequestFor("c1");
  request.mutable_connection()->mutable_mechanism()->set_type("KERNEL");
  request.mutable_connection()->set_network_service_endpoint_name("nse-1");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  EventOptions reselect;
  reselect.reselect = true;
  ASSERT_TRUE(grabber->factory.lock()->Request(reselect).ok());
  ASSERT_EQ(tail->close_count(), 1u);
  EXPECT_EQ(tail->closes()[0].network_service_endpoint_name(), "nse-1");
  ASSERT_EQ(tail->request_count(), 2u);
  auto again = tail->requests()[1].connection();
  EXPECT_FALSE(again.has_mechanism());
  EXPECT_EQ(again.network_service_endpoint_name(), "");
  EXPECT_EQ(again.state(), connection::RESELECT_REQUESTED);
  ASSERT_TRUE(grabber->factory.lock()->Close().ok());
}

TEST(Begin, ClientReselectDropsTheOldEndpointsAddresses) {
  auto grabber = std::make_shared<FactoryGrabber>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({std::make_shared<Begin>(Begin::Side::kClient), grabber, tail});
  Context ctx;
  auto request = RequestFor("c1");
  auto* ip = request.mutable_connection()->mutable_context()->mutable_ip_context();
  ip->add_src_ip_addrs("172.16.1.101/32");
  ip->add_dst_ip_addrs("172.16.1.100/32");
  ip->add_src_routes()->set_prefix("172.16.1.100/32");
  ip->add_dst_routes()->set_prefix("172.16.1.101/32");
  ip->add_excluded_prefixes("10.96.0.0/12");
  ASSERT_TRUE(chain->Request(ctx, request).ok());
  EventOptions reselect;
  reselect.reselect = true;
  ASSERT_TRUE(grabber->factory.lock()->Request(reselect).ok());
  ASSERT_EQ(tail->request_count(), 2u);
  const auto again = tail->requests()[1].connection().context().ip_context();
  EXPECT_EQ(again.src_ip_addrs_size(), 0);
  EXPECT_EQ(again.dst_ip_addrs_size(), 0);
  EXPECT_EQ(again.src_routes_size(), 0);
  EXPECT_EQ(again.dst_routes_size(), 0);
  ASSERT_EQ(again.excluded_prefixes_size(), 1);
  EXPECT_EQ(again.excluded_prefixes(0), "10.96.0.0/12");
  // A plain refresh keeps them.
  ASSERT_TRUE(grabber->factory.lock()->Request({}).ok());
  ASSERT_TRUE(grabber->factory.lock()->Close().ok());
}

TEST(Begin, CloseAllClosesEveryEstablishedConnection) {
  auto begin = std::make_shared<Begin>();
  auto tail = std::make_shared<Recorder>();
  auto chain = MakeChain({begin, tail});
  Context ctx;
  for (const char* id : {"a", "b", "c"}) {
    auto request = RequestFor(id);
    ASSERT_TRUE(chain->Request(ctx, request).ok());
  }
  ASSERT_TRUE(begin->CloseAll().ok());
  EXPECT_EQ(tail->close_count(), 3u);
  EXPECT_EQ(begin->size(), 0u);
}

TEST(Begin, AbandonForgetsConnectionsAndReleasesTheChain) {
  auto begin = std::make_shared<Begin>();
  auto grabber = std::make_shared<FactoryGrabber>();
  auto tail = std::make_shared<Recorder>();
  {
    auto chain = MakeChain({begin, grabber, tail});
    Context ctx;
    auto request = RequestFor("a");
    ASSERT_TRUE(chain->Request(ctx, request).ok());
  }
  // The established connection keeps the chain's elements alive...
  EXPECT_EQ(tail.use_count(), 2);
  begin->Abandon();
  // ...until it is forgotten.
  EXPECT_EQ(tail.use_count(), 1);
  EXPECT_EQ(begin->size(), 0u);
  EXPECT_TRUE(grabber->factory.expired());  // later events have nothing to act on
  EXPECT_EQ(tail->close_count(), 0u);
}

}  // namespace
}  // namespace nsmcert::sdk
