#include "reference/sdk/chain/chain.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nsmcert::sdk {
namespace {

// Records its name on the way down (request labels) and on the way back (connection labels).
class Tracer : public NetworkServiceElement {
 public:
  explicit Tracer(std::string name) : name_(std::move(name)) {}
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto& down = (*request.mutable_connection()->mutable_labels())["down"];
    down += name_;
    auto conn = next.Request(ctx, request);
    if (!conn.ok()) return conn;
    (*conn->mutable_labels())["up"] += name_;
    return conn;
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    (*conn.mutable_labels())["close"] += name_;
    return next.Close(ctx, conn);
  }

 private:
  std::string name_;
};

// Fails without calling next.
class Refuser : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context&, networkservice::NetworkServiceRequest&,
                                                 const NetworkServiceNext&) override {
    return absl::UnavailableError("refused");
  }
};

// Succeeds downstream, then fails its own step and undoes the rest (the undo rule).
class FailsAfterNext : public NetworkServiceElement {
 public:
  int closes_sent = 0;
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto conn = next.Request(ctx, request);
    if (!conn.ok()) return conn;
    ++closes_sent;
    (void)next.Close(ctx, *conn);
    return absl::InternalError("own step failed");
  }
};

class CountingTail : public NetworkServiceElement {
 public:
  int requests = 0, closes = 0;
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    ++requests;
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    ++closes;
    return next.Close(ctx, conn);
  }
};

std::shared_ptr<NetworkServiceChain> MustMake(
    std::vector<std::shared_ptr<NetworkServiceElement>> elements) {
  auto chain = NetworkServiceChain::Make(std::move(elements));
  EXPECT_TRUE(chain.ok()) << chain.status();
  return *chain;
}

TEST(NetworkServiceChain, RunsElementsInOrderDownAndInReverseUp) {
  auto chain = MustMake({std::make_shared<Tracer>("a"), std::make_shared<Tracer>("b"),
                         std::make_shared<Tracer>("c")});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("conn-1");
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->id(), "conn-1");  // the tail returns the request's connection
  EXPECT_EQ(conn->labels().at("down"), "abc");
  EXPECT_EQ(conn->labels().at("up"), "cba");
}

TEST(NetworkServiceChain, NestedChainsContinueWithTheEnclosingNext) {
  auto inner = MustMake({std::make_shared<Tracer>("b"), std::make_shared<Tracer>("c")});
  auto outer = MustMake({std::make_shared<Tracer>("a"), inner, std::make_shared<Tracer>("d")});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = outer->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->labels().at("down"), "abcd");
  EXPECT_EQ(conn->labels().at("up"), "dcba");
  connection::Connection c;
  ASSERT_TRUE(outer->Close(ctx, c).ok());
  EXPECT_EQ(c.labels().at("close"), "abcd");
}

TEST(NetworkServiceChain, AnErrorStopsTheCallAndReachesTheCaller) {
  auto tail = std::make_shared<CountingTail>();
  auto chain = MustMake({std::make_shared<Tracer>("a"), std::make_shared<Refuser>(), tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  auto conn = chain->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(tail->requests, 0);
}

TEST(NetworkServiceChain, UndoRuleClosesWhatTheRestBuilt) {
  auto failing = std::make_shared<FailsAfterNext>();
  auto tail = std::make_shared<CountingTail>();
  auto chain = MustMake({failing, tail});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  EXPECT_FALSE(chain->Request(ctx, request).ok());
  EXPECT_EQ(tail->requests, 1);
  EXPECT_EQ(tail->closes, 1);
}

TEST(NetworkServiceChain, NullElementIsAnErrorWhenTheChainIsBuilt) {
  auto chain = NetworkServiceChain::Make({std::make_shared<Tracer>("a"), nullptr});
  EXPECT_EQ(chain.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(chain.status().message().find("element 1"), std::string::npos);
}

// Keeps a copy of `next` to close later, as a timeout element does.
class KeepsNext : public NetworkServiceElement {
 public:
  std::optional<NetworkServiceNext> saved;
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    saved = next;
    return next.Request(ctx, request);
  }
};

TEST(NetworkServiceChain, ASavedNextStaysUsableAfterTheCallAndTheChainHandleAreGone) {
  auto keeper = std::make_shared<KeepsNext>();
  auto tail = std::make_shared<CountingTail>();
  {
    auto inner = MustMake({keeper, tail});
    auto outer = MustMake({std::make_shared<Tracer>("a"), inner});
    Context ctx;
    networkservice::NetworkServiceRequest request;
    ASSERT_TRUE(outer->Request(ctx, request).ok());
  }
  ASSERT_TRUE(keeper->saved.has_value());
  EXPECT_FALSE(keeper->saved->AtTail());
  Context later;
  connection::Connection conn;
  ASSERT_TRUE(keeper->saved->Close(later, conn).ok());
  EXPECT_EQ(tail->closes, 1);
  // The saved next holds the chain that holds the keeper: break the cycle.
  keeper->saved.reset();
}

TEST(NetworkServiceChain, EmptyChainIsTheTail) {
  auto chain = MustMake({});
  Context ctx;
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_network_service("svc");
  auto conn = chain->Request(ctx, request);
  ASSERT_TRUE(conn.ok());
  EXPECT_EQ(conn->network_service(), "svc");
}

}  // namespace
}  // namespace nsmcert::sdk
