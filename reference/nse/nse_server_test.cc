// The endpoint's chain in process, driven the way a forwarder drives it: requests with a
// three-segment path (nsc, nsmgr, forwarder) and the forwarder's per-RPC token, refreshes, closes
// and the endpoint's own timeout, with a fake clock.
#include "reference/nse/nse_server.h"

#include <gtest/gtest.h>

#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/go_time.h"

namespace nsmcert::nse {
namespace {

constexpr char kNetNs[] = "inode://4/4026532000";
constexpr absl::Duration kTokenLifetime = absl::Minutes(10);

class NseServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Make("172.16.1.100/31"); }

  void Make(const std::string& cidr) {
    NseOptions options;
    options.name = "nse-1";
    options.signer = Signer("nse-1");
    options.cidr_prefix = cidr;
    options.netns_url = kNetNs;
    options.clock = &clock_;
    auto server = NseServer::Create(std::move(options));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::shared_ptr<sdk::tools::TokenSigner> Signer(const std::string& name) {
    return std::make_shared<sdk::tools::Es256TokenSigner>(
        *sdk::tools::SpiffeId::Parse("spiffe://example.org/" + name),
        *sdk::tools::EcKey::Generate(), kTokenLifetime, [this] { return clock_.Now(); });
  }

  void AddSegment(connection::Path& path, const std::string& name, const std::string& id) {
    auto token = Signer(name)->Sign("");
    ASSERT_TRUE(token.ok());
    auto* segment = path.add_path_segments();
    segment->set_name(name);
    segment->set_id(id);
    segment->set_token(token->value);
    *segment->mutable_expires() = *sdk::tools::ToProtoTimestamp(token->expires);
  }

  // What a forwarder sends: its own segment at the index, KERNEL preferred with no parameters.
  networkservice::NetworkServiceRequest ForwarderRequest(const std::string& forwarder_id) {
    networkservice::NetworkServiceRequest request;
    auto* conn = request.mutable_connection();
    conn->set_id(forwarder_id);
    conn->set_network_service("icmp-responder");
    conn->set_network_service_endpoint_name("nse-1");
    conn->set_payload("ETHERNET");
    auto* path = conn->mutable_path();
    AddSegment(*path, "nsc", "nsc-0");
    AddSegment(*path, "nsmgr", "nsmgr-" + forwarder_id);
    AddSegment(*path, "forwarder", forwarder_id);
    path->set_index(2);
    auto* kernel = request.add_mechanism_preferences();
    kernel->set_cls("LOCAL");
    kernel->set_type("KERNEL");
    return request;
  }

  // The forwarder's call context: a transport peer with a fresh per-RPC token.
  sdk::Context ForwarderContext() {
    sdk::Context ctx(clock_);
    ctx.set_has_peer(true);
    ctx.set_deadline(clock_.Now() + absl::Seconds(15));
    auto token = Signer("forwarder")->Sign("");
    ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientToken), token->value);
    ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientTokenExpires),
                                            sdk::tools::FormatRfc3339Nano(token->expires));
    return ctx;
  }

  absl::StatusOr<connection::Connection> Request(networkservice::NetworkServiceRequest request) {
    sdk::Context ctx = ForwarderContext();
    return server_->chain()->Request(ctx, request);
  }
  absl::Status Close(connection::Connection conn) {
    sdk::Context ctx = ForwarderContext();
    return server_->chain()->Close(ctx, conn);
  }

  sdk::FakeClock clock_;
  std::unique_ptr<NseServer> server_;
};

TEST_F(NseServerTest, AnswersWithAddressesAndTheKernelMechanismInItsNamespace) {
  auto conn = Request(ForwarderRequest("fwd-1"));
  ASSERT_TRUE(conn.ok()) << conn.status();

  EXPECT_EQ(conn->id(), "fwd-1") << "the caller's view is restored";
  EXPECT_EQ(conn->path().index(), 2u);
  ASSERT_EQ(conn->path().path_segments_size(), 4);
  EXPECT_EQ(conn->path().path_segments(3).name(), "nse-1");
  EXPECT_FALSE(conn->path().path_segments(3).token().empty());
  EXPECT_EQ(conn->state(), connection::UP);

  EXPECT_EQ(conn->mechanism().cls(), "LOCAL");
  EXPECT_EQ(conn->mechanism().type(), "KERNEL");
  EXPECT_EQ(conn->mechanism().parameters().at("inodeURL"), kNetNs);
  EXPECT_EQ(conn->mechanism().parameters().at("name").size(), 15u);

  const auto& ip = conn->context().ip_context();
  ASSERT_EQ(ip.src_ip_addrs_size(), 1);
  ASSERT_EQ(ip.dst_ip_addrs_size(), 1);
  EXPECT_EQ(ip.dst_ip_addrs(0), "172.16.1.100/32");
  EXPECT_EQ(ip.src_ip_addrs(0), "172.16.1.101/32");
  ASSERT_EQ(ip.src_routes_size(), 1);
  EXPECT_EQ(ip.src_routes(0).prefix(), "172.16.1.100/32");
  ASSERT_EQ(ip.dst_routes_size(), 1);
  EXPECT_EQ(ip.dst_routes(0).prefix(), "172.16.1.101/32");

  auto stored = server_->monitor()->Connections();
  ASSERT_EQ(stored.size(), 1u);
  const connection::Connection& own = stored.begin()->second;
  EXPECT_EQ(own.id(), conn->path().path_segments(3).id()) << "stored under its own segment id";
  EXPECT_EQ(own.path().index(), 3u);
  ASSERT_TRUE(Close(*conn).ok());
}

TEST_F(NseServerTest, RefreshKeepsAddressesAndInterfaceName) {
  auto first = Request(ForwarderRequest("fwd-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  clock_.Advance(absl::Minutes(2));
  networkservice::NetworkServiceRequest refresh;
  *refresh.mutable_connection() = *first;
  auto second = Request(refresh);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->path().path_segments(3).id(), first->path().path_segments(3).id());
  EXPECT_EQ(second->mechanism().parameters().at("name"),
            first->mechanism().parameters().at("name"));
  EXPECT_EQ(second->context().ip_context().src_ip_addrs(0), "172.16.1.101/32");
  EXPECT_EQ(second->context().ip_context().dst_ip_addrs(0), "172.16.1.100/32");
  EXPECT_EQ(server_->monitor()->Connections().size(), 1u);
  ASSERT_TRUE(Close(*second).ok());
}

TEST_F(NseServerTest, CloseReleasesTheAddressesAndTheMonitorEntry) {
  auto first = Request(ForwarderRequest("fwd-1"));
  ASSERT_TRUE(first.ok()) << first.status();
  auto exhausted = Request(ForwarderRequest("fwd-2"));
  ASSERT_FALSE(exhausted.ok());
  EXPECT_EQ(exhausted.status().code(), absl::StatusCode::kResourceExhausted) << exhausted.status();
  EXPECT_EQ(server_->monitor()->Connections().size(), 1u) << "a failed request leaves nothing";

  ASSERT_TRUE(Close(*first).ok());
  EXPECT_TRUE(server_->monitor()->Connections().empty());
  auto again = Request(ForwarderRequest("fwd-2"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->context().ip_context().src_ip_addrs(0), "172.16.1.101/32");
  ASSERT_TRUE(Close(*again).ok());
}

TEST_F(NseServerTest, EachClientGetsItsOwnPair) {
  Make("172.16.1.0/29");
  auto a = Request(ForwarderRequest("fwd-1"));
  auto b = Request(ForwarderRequest("fwd-2"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(b->context().ip_context().dst_ip_addrs(0), "172.16.1.2/32");
  EXPECT_EQ(b->context().ip_context().src_ip_addrs(0), "172.16.1.3/32");
  EXPECT_NE(a->mechanism().parameters().at("name"), b->mechanism().parameters().at("name"));
  ASSERT_TRUE(Close(*a).ok());
  ASSERT_TRUE(Close(*b).ok());
}

TEST_F(NseServerTest, ClosesAConnectionItsCallerStoppedRefreshing) {
  auto conn = Request(ForwarderRequest("fwd-1"));
  ASSERT_TRUE(conn.ok()) << conn.status();
  auto subscription = server_->monitor()->Subscribe({});
  auto initial = subscription->Next(absl::Seconds(5));
  ASSERT_TRUE(initial.has_value());
  clock_.Advance(kTokenLifetime);
  EXPECT_TRUE(server_->monitor()->Connections().empty());
  auto deleted = subscription->Next(absl::Seconds(5));
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->type(), connection::DELETE);
  auto again = Request(ForwarderRequest("fwd-2"));
  ASSERT_TRUE(again.ok()) << "the timeout gave the addresses back: " << again.status();
  ASSERT_TRUE(Close(*again).ok());
}

TEST_F(NseServerTest, RefusesMechanismsOtherThanKernel) {
  auto request = ForwarderRequest("fwd-1");
  request.mutable_mechanism_preferences(0)->set_type("MEMIF");
  auto conn = Request(request);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(server_->monitor()->Connections().empty());
  auto after = Request(ForwarderRequest("fwd-2"));
  ASSERT_TRUE(after.ok()) << "the refused request left no addresses: " << after.status();
  ASSERT_TRUE(Close(*after).ok());
}

TEST_F(NseServerTest, RefusesAnExpiredToken) {
  auto request = ForwarderRequest("fwd-1");
  clock_.Advance(kTokenLifetime + absl::Seconds(1));
  sdk::Context ctx(clock_);
  ctx.set_has_peer(true);
  auto conn = server_->chain()->Request(ctx, request);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kPermissionDenied) << conn.status();
}

TEST(NseServer, NamesMissingOptions) {
  NseOptions options;
  auto server = NseServer::Create(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("name"), std::string::npos);
  options.name = "nse";
  options.signer = std::make_shared<sdk::tools::Hs256TokenSigner>(
      *sdk::tools::SpiffeId::Parse("spiffe://example.org/nse"), "secret");
  server = NseServer::Create(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("netns_url"), std::string::npos);
  options.netns_url = kNetNs;
  options.cidr_prefix = "not-a-cidr";
  server = NseServer::Create(options);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("not-a-cidr"), std::string::npos) << server.status();
}

}  // namespace
}  // namespace nsmcert::nse
