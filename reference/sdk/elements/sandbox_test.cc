// An in-process sandbox: an NSC client chain talking to one server hop built from the endpoint
// skeleton of spec section 10 (updatepath -> begin -> updatetoken -> authorize -> metadata ->
// timeout -> monitor -> trimpath -> the hop's own functionality), with real ES256 tokens, the
// default token policies, a connection monitor and a fake clock. It checks what a peer can observe
// over a whole request / refresh / close cycle, the hop's own timeout, and the undo rule.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "nsmcert/api/constants.h"
#include "reference/sdk/elements/authorize.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/refresh.h"
#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/elements/timeout.h"
#include "reference/sdk/elements/trimpath.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/uuid.h"

namespace nsmcert::sdk {
namespace {

using testing::MakeChain;
using testing::Recorder;
using testing::SelfSignedCertificatePem;

constexpr char kNscId[] = "spiffe://example.org/nsc";
constexpr char kHopId[] = "spiffe://example.org/nse";
constexpr absl::Duration kTokenLifetime = absl::Minutes(10);
constexpr absl::Duration kRequestTimeout = absl::Seconds(15);
constexpr absl::Duration kWait = absl::Seconds(5);

// One side of the sandbox: a SPIFFE identity with its key and certificate.
struct Identity {
  Identity(const std::string& id, FakeClock& clock) : key(*tools::EcKey::Generate()) {
    certificate = SelfSignedCertificatePem(key);
    signer = std::make_shared<tools::Es256TokenSigner>(
        *tools::SpiffeId::Parse(id), key, kTokenLifetime, [&clock] { return clock.Now(); });
  }
  tools::EcKey key;
  std::string certificate;
  std::shared_ptr<tools::TokenSigner> signer;
};

// Stands in for the gRPC hop between the NSC and the server: a fresh server-side context with the
// client's metadata, identity and certificate, and the server's certificate for the client side.
class InProcessConnect : public NetworkServiceElement {
 public:
  InProcessConnect(std::shared_ptr<NetworkServiceChain> server, const Identity& client,
                   const Identity& server_identity)
      : server_(std::move(server)),
        client_cert_(client.certificate),
        server_cert_(server_identity.certificate) {}

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    Context server_ctx = ServerContext(ctx);
    networkservice::NetworkServiceRequest on_the_wire = request;
    auto conn = server_->Request(server_ctx, on_the_wire);
    if (!conn.ok()) return conn.status();
    ctx.values().Set(std::make_shared<PeerCertificate>(PeerCertificate{server_cert_}));
    *request.mutable_connection() = *conn;
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    Context server_ctx = ServerContext(ctx);
    connection::Connection on_the_wire = conn;
    if (absl::Status s = server_->Close(server_ctx, on_the_wire); !s.ok()) return s;
    return next.Close(ctx, conn);
  }

 private:
  Context ServerContext(const Context& client_ctx) {
    Context server_ctx(client_ctx.clock());
    server_ctx.set_deadline(client_ctx.deadline());
    for (const auto& [key, value] : client_ctx.outgoing_metadata()) {
      server_ctx.mutable_incoming_metadata().emplace(key, value);
    }
    server_ctx.set_has_peer(true);
    server_ctx.set_peer_identity(kNscId);
    server_ctx.values().Set(std::make_shared<PeerCertificate>(PeerCertificate{client_cert_}));
    return server_ctx;
  }

  std::shared_ptr<NetworkServiceChain> server_;
  std::string client_cert_;
  std::string server_cert_;
};

// What a dial element learns from the TLS handshake: who the next hop is.
class KnowsNextHop : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    ctx.values().Set(std::make_shared<NextHopIdentity>(NextHopIdentity{kHopId}));
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    ctx.values().Set(std::make_shared<NextHopIdentity>(NextHopIdentity{kHopId}));
    return next.Close(ctx, conn);
  }
};

// The hop's own functionality: an endpoint handing out addresses and a mechanism.
class Endpoint : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto* conn = request.mutable_connection();
    auto* ip = conn->mutable_context()->mutable_ip_context();
    if (ip->src_ip_addrs().empty()) ip->add_src_ip_addrs("169.254.0.1/32");
    if (ip->dst_ip_addrs().empty()) ip->add_dst_ip_addrs("169.254.0.0/32");
    conn->mutable_mechanism()->set_cls(std::string(api::cls::kLocal));
    conn->mutable_mechanism()->set_type(std::string(api::mechanism::kKernel));
    return next.Request(ctx, request);
  }
};

class Sandbox : public ::testing::Test {
 protected:
  // `extra` runs where the hop's own functionality goes (after trimpath), `before_timeout` between
  // metadata and timeout.
  void Build(std::shared_ptr<NetworkServiceElement> extra = nullptr,
             std::shared_ptr<NetworkServiceElement> before_timeout = nullptr,
             bool nsc_refreshes = true) {
    std::vector<std::shared_ptr<NetworkServiceElement>> server = {
        std::make_shared<UpdatePath>("nse-1"),
        hop_begin_,
        std::make_shared<UpdateTokenServer>(hop_.signer),
        std::make_shared<AuthorizeServer>(TokenPolicies::Default()),
        hop_metadata_,
    };
    if (before_timeout) server.push_back(before_timeout);
    server.insert(server.end(), {hop_timeout_, std::make_shared<MonitorServer>(monitor_),
                                 std::make_shared<TrimPathServer>()});
    if (extra) server.push_back(extra);
    server.insert(server.end(), {std::make_shared<Endpoint>(), endpoint_});
    server_ = MakeChain(server);

    std::vector<std::shared_ptr<NetworkServiceElement>> client = {
        std::make_shared<UpdatePath>("nsc"), std::make_shared<Begin>(Begin::Side::kClient),
        std::make_shared<ConnectionMetadata>()};
    if (nsc_refreshes) client.push_back(nsc_refresh_);
    client.insert(client.end(), {std::make_shared<KnowsNextHop>(),
                                 std::make_shared<UpdateTokenClient>(nsc_.signer),
                                 std::make_shared<AuthorizeClient>(TokenPolicies::Default()),
                                 std::make_shared<TrimPathClient>(),
                                 std::make_shared<InProcessConnect>(server_, nsc_, hop_)});
    nsc_chain_ = MakeChain(client);
    subscription_ = monitor_->Subscribe({});
    auto initial = subscription_->Next(kWait);
    ASSERT_TRUE(initial.has_value());
    ASSERT_EQ(initial->type(), connection::INITIAL_STATE_TRANSFER);
  }

  absl::StatusOr<connection::Connection> Connect() {
    Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + kRequestTimeout);
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    request.mutable_connection()->set_network_service("icmp-responder");
    auto* preference = request.add_mechanism_preferences();
    preference->set_cls(std::string(api::cls::kLocal));
    preference->set_type(std::string(api::mechanism::kKernel));
    return nsc_chain_->Request(ctx, request);
  }

  absl::Status Disconnect(connection::Connection conn) {
    Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + kRequestTimeout);
    return nsc_chain_->Close(ctx, conn);
  }

  std::optional<connection::ConnectionEvent> NextEvent() { return subscription_->Next(kWait); }
  bool NoMoreEvents() { return !subscription_->Next(absl::Milliseconds(10)).has_value(); }

  // Nothing of the connection is left at the hop.
  void ExpectHopHoldsNothing() {
    EXPECT_TRUE(monitor_->Connections().empty());
    EXPECT_EQ(hop_begin_->size(), 0u);
    EXPECT_EQ(hop_metadata_->size(), 0u);
    EXPECT_EQ(hop_timeout_->armed(), 0u);
  }

  FakeClock clock_;
  Identity nsc_{kNscId, clock_};
  Identity hop_{kHopId, clock_};
  std::shared_ptr<Begin> hop_begin_ = std::make_shared<Begin>();
  std::shared_ptr<ConnectionMetadata> hop_metadata_ = std::make_shared<ConnectionMetadata>();
  std::shared_ptr<Timeout> hop_timeout_ = std::make_shared<Timeout>();
  std::shared_ptr<ConnectionMonitor> monitor_ = std::make_shared<ConnectionMonitor>();
  std::shared_ptr<Recorder> endpoint_ = std::make_shared<Recorder>();
  std::shared_ptr<Refresh> nsc_refresh_ = std::make_shared<Refresh>();
  std::shared_ptr<NetworkServiceChain> server_;
  std::shared_ptr<NetworkServiceChain> nsc_chain_;
  std::unique_ptr<MonitorSubscription> subscription_;
};

absl::Time Expires(const connection::PathSegment& segment) {
  return *tools::FromProtoTimestamp(segment.expires());
}

TEST_F(Sandbox, RequestRefreshCloseCycle) {
  Build();
  const absl::Time start = clock_.Now();

  // --- Request ---
  auto conn = Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->id(), "nsc-0");
  EXPECT_EQ(conn->state(), connection::UP);
  EXPECT_EQ(conn->mechanism().type(), "KERNEL");
  const auto& path = conn->path();
  EXPECT_EQ(path.index(), 0u);
  ASSERT_EQ(path.path_segments_size(), 2);
  EXPECT_EQ(path.path_segments(0).name(), "nsc");
  EXPECT_EQ(path.path_segments(0).id(), "nsc-0");
  EXPECT_EQ(path.path_segments(1).name(), "nse-1");
  const std::string hop_conn_id = path.path_segments(1).id();
  EXPECT_TRUE(tools::IsUuidText(hop_conn_id)) << hop_conn_id;

  // Tokens are chained: the NSC's token is addressed to the hop, the hop's to the NSC.
  auto nsc_token = tools::ParseJwtUnverified(path.path_segments(0).token());
  auto hop_token = tools::ParseJwtUnverified(path.path_segments(1).token());
  ASSERT_TRUE(nsc_token.ok() && hop_token.ok());
  EXPECT_EQ(nsc_token->claims.subject, kNscId);
  EXPECT_EQ(nsc_token->claims.audience, std::vector<std::string>{kHopId});
  EXPECT_EQ(hop_token->claims.subject, kHopId);
  EXPECT_EQ(hop_token->claims.audience, std::vector<std::string>{kNscId});
  EXPECT_TRUE(tools::VerifyJwtEs256Signature(path.path_segments(0).token(), nsc_.key).ok());
  EXPECT_EQ(Expires(path.path_segments(0)), start + kTokenLifetime);
  EXPECT_EQ(Expires(path.path_segments(1)), start + kTokenLifetime);

  // The endpoint saw the hop's own view.
  ASSERT_EQ(endpoint_->request_count(), 1u);
  EXPECT_EQ(endpoint_->requests()[0].connection().id(), hop_conn_id);
  EXPECT_EQ(endpoint_->requests()[0].connection().path().index(), 1u);

  // The monitor publishes the hop's view, keyed by its id.
  auto update = NextEvent();
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->type(), connection::UPDATE);
  ASSERT_TRUE(update->connections().contains(hop_conn_id));
  EXPECT_EQ(update->connections().at(hop_conn_id).path().index(), 1u);
  EXPECT_EQ(update->connections().at(hop_conn_id).state(), connection::UP);
  connection::MonitorScopeSelector by_nsc_segment;
  by_nsc_segment.add_path_segments()->set_id("nsc-0");
  EXPECT_EQ(monitor_->Subscribe(by_nsc_segment)->Next(kWait)->connections().size(), 1u);

  // Two timers: the NSC's refresh and the hop's timeout.
  EXPECT_EQ(clock_.PendingTimers(), 2);
  EXPECT_EQ(hop_timeout_->armed(), 1u);

  // --- Refresh: 0.2 x 10 min after the request (index 0 of 2 segments) ---
  clock_.Advance(absl::Minutes(2));
  ASSERT_EQ(endpoint_->request_count(), 2u);
  auto refreshed = endpoint_->requests()[1].connection();
  EXPECT_EQ(refreshed.id(), hop_conn_id);  // same connection at the hop
  EXPECT_EQ(Expires(refreshed.path().path_segments(0)), start + absl::Minutes(2) + kTokenLifetime);
  EXPECT_EQ(hop_begin_->size(), 1u);
  auto refresh_update = NextEvent();
  ASSERT_TRUE(refresh_update.has_value());
  EXPECT_EQ(refresh_update->type(), connection::UPDATE);
  EXPECT_EQ(Expires(refresh_update->connections().at(hop_conn_id).path().path_segments(0)),
            start + absl::Minutes(2) + kTokenLifetime);

  // Refreshing keeps the hop's timeout from firing past the first token's expiry.
  clock_.Advance(absl::Minutes(9));
  EXPECT_EQ(endpoint_->close_count(), 0u);
  EXPECT_GE(endpoint_->request_count(), 6u);

  // --- Close ---
  ASSERT_TRUE(Disconnect(*conn).ok());
  ASSERT_EQ(endpoint_->close_count(), 1u);
  EXPECT_EQ(endpoint_->closes()[0].id(), hop_conn_id);
  connection::ConnectionEvent last;
  while (auto e = subscription_->Next(absl::Milliseconds(10))) last = *e;
  EXPECT_EQ(last.type(), connection::DELETE);
  EXPECT_TRUE(last.connections().contains(hop_conn_id));
  ExpectHopHoldsNothing();
  EXPECT_EQ(nsc_refresh_->armed(), 0u);
  EXPECT_EQ(clock_.PendingTimers(), 0);

  // Close after Close is a no-op.
  ASSERT_TRUE(Disconnect(*conn).ok());
  EXPECT_EQ(endpoint_->close_count(), 1u);
}

TEST_F(Sandbox, TheHopClosesAConnectionItsClientStoppedRefreshing) {
  Build(nullptr, nullptr, /*nsc_refreshes=*/false);
  auto conn = Connect();
  ASSERT_TRUE(conn.ok()) << conn.status();
  ASSERT_TRUE(NextEvent().has_value());  // UPDATE

  // Due at the NSC token's expiry minus the request's time budget.
  clock_.Advance(kTokenLifetime - kRequestTimeout - absl::Milliseconds(1));
  EXPECT_EQ(endpoint_->close_count(), 0u);
  clock_.Advance(absl::Milliseconds(1));
  ASSERT_EQ(endpoint_->close_count(), 1u);
  auto deleted = NextEvent();
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->type(), connection::DELETE);
  ExpectHopHoldsNothing();

  // The NSC's late Close is harmless.
  ASSERT_TRUE(Disconnect(*conn).ok());
  EXPECT_EQ(endpoint_->close_count(), 1u);
}

TEST_F(Sandbox, AFailureAfterTheRestSucceededLeavesNothingBehind) {
  // The hop's last own step fails after the endpoint succeeded, and undoes it.
  Build(std::make_shared<testing::FailsAfterNext>());
  auto conn = Connect();
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(endpoint_->request_count(), 1u);
  EXPECT_EQ(endpoint_->close_count(), 1u);
  EXPECT_TRUE(NoMoreEvents());  // monitor never saw a successful connection
  ExpectHopHoldsNothing();
  EXPECT_EQ(clock_.PendingTimers(), 0);
}

TEST_F(Sandbox, AFailureAboveTimeoutAndMonitorUndoesTheirState) {
  // Fails between metadata and timeout, after timeout armed its timer and monitor published.
  Build(nullptr, std::make_shared<testing::FailsAfterNext>());
  auto conn = Connect();
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(endpoint_->close_count(), 1u);
  auto update = NextEvent();
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->type(), connection::UPDATE);
  auto deleted = NextEvent();
  ASSERT_TRUE(deleted.has_value());
  EXPECT_EQ(deleted->type(), connection::DELETE);
  ExpectHopHoldsNothing();
  EXPECT_EQ(clock_.PendingTimers(), 0);
}

TEST_F(Sandbox, AForgedTokenIsRefusedAndLeavesNothing) {
  Build();
  // An NSC whose per-RPC token is signed by a key that does not match its certificate.
  Identity impostor(kNscId, clock_);
  auto client = MakeChain(
      {std::make_shared<UpdatePath>("nsc"), std::make_shared<Begin>(Begin::Side::kClient),
       std::make_shared<KnowsNextHop>(), std::make_shared<UpdateTokenClient>(impostor.signer),
       std::make_shared<InProcessConnect>(server_, nsc_, hop_)});
  Context ctx(clock_);
  networkservice::NetworkServiceRequest request;
  request.mutable_connection()->set_id("nsc-0");
  auto conn = client->Request(ctx, request);
  EXPECT_EQ(conn.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(std::string(conn.status().message()).starts_with("no sufficient privileges"));
  EXPECT_EQ(endpoint_->request_count(), 0u);
  EXPECT_TRUE(NoMoreEvents());
  ExpectHopHoldsNothing();
}

TEST_F(Sandbox, ARefreshFromTheReturnedConnectionKeepsTheHopsIds) {
  Build(nullptr, nullptr, /*nsc_refreshes=*/false);
  auto first = Connect();
  ASSERT_TRUE(first.ok());
  // The NSC re-sends the connection it got back (e.g. after a restart, recovered from monitor).
  Context ctx(clock_);
  networkservice::NetworkServiceRequest again;
  *again.mutable_connection() = *first;
  auto second = nsc_chain_->Request(ctx, again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->path().path_segments(1).id(), first->path().path_segments(1).id());
  EXPECT_EQ(hop_begin_->size(), 1u);
  EXPECT_EQ(monitor_->Connections().size(), 1u);
  ASSERT_TRUE(Disconnect(*second).ok());
  ExpectHopHoldsNothing();
}

}  // namespace
}  // namespace nsmcert::sdk
