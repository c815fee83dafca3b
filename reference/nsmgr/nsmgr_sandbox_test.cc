// An in-process sandbox around the nsmgr: a registry (the reference registry's chains), the
// nsmgr, fake forwarders that only discover an endpoint and connect to it, a fake endpoint and an
// NSC client chain, all talking real gRPC over unix sockets in a temporary directory. Time is a
// FakeClock shared by the nsmgr and the fakes (the registry has its own, which never moves), so
// token expiry, the nsmgr's hop timeout and the excluded-prefixes file polling are driven by the
// test. What is asserted is what a peer observes: replies, paths and tokens, monitor events,
// registry contents, what the fakes received.
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nsmcert/api/constants.h"
#include "reference/nsmgr/nsmgr_server.h"
#include "reference/nsmgr/registry_proxy.h"
#include "reference/registry/registry_server.h"
#include "reference/sdk/elements/begin.h"
#include "reference/sdk/elements/clienturl.h"
#include "reference/sdk/elements/metadata.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/test_elements.h"
#include "reference/sdk/elements/trimpath.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_client.h"
#include "reference/sdk/grpc/network_service_server.h"
#include "reference/sdk/grpc/registry_client.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/uuid.h"

namespace nsmcert::nsmgr {
namespace {

namespace fs = std::filesystem;
using sdk::testing::Recorder;

constexpr char kNsmgrName[] = "nsmgr-1";
constexpr absl::Duration kTokenLifetime = absl::Minutes(10);
constexpr absl::Duration kNscTokenLifetime = absl::Seconds(40);
constexpr absl::Duration kRequestTimeout = absl::Seconds(15);
constexpr absl::Duration kPollInterval = absl::Seconds(1);

std::string IdOf(const std::string& name) { return "spiffe://example.org/" + name; }

// One participant's identity: SPIFFE ID, key, and a signer on the sandbox clock.
struct Identity {
  Identity(const std::string& name, sdk::Clock& clock, absl::Duration lifetime = kTokenLifetime)
      : id(IdOf(name)), key(*sdk::tools::EcKey::Generate()) {
    signer = std::make_shared<sdk::tools::Es256TokenSigner>(
        *sdk::tools::SpiffeId::Parse(id), key, lifetime, [&clock] { return clock.Now(); });
  }
  std::string id;
  sdk::tools::EcKey key;
  std::shared_ptr<sdk::tools::TokenSigner> signer;
};

std::unique_ptr<grpc::Server> Serve(const std::string& socket,
                                    const std::vector<grpc::Service*>& services) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket, grpc::InsecureServerCredentials());
  for (auto* service : services) builder.RegisterService(service);
  return builder.BuildAndStart();
}

// Waits (real time, bounded) for something another thread does.
bool Eventually(const std::function<bool()>& condition) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Fixes the identity of the next hop (what a TLS handshake would tell).
class NextHop : public sdk::NetworkServiceElement {
 public:
  explicit NextHop(std::string id) : id_(std::move(id)) {}
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    ctx.values().Set(std::make_shared<sdk::NextHopIdentity>(sdk::NextHopIdentity{id_}));
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    ctx.values().Set(std::make_shared<sdk::NextHopIdentity>(sdk::NextHopIdentity{id_}));
    return next.Close(ctx, conn);
  }

 private:
  std::string id_;
};

// Takes the caller's identity from the `sub` of the token it presented (what TLS would tell).
class ClaimedPeer : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    auto token =
        sdk::tools::ParseJwtUnverified(ctx.IncomingValue(std::string(api::metadata::kClientToken)));
    if (token.ok()) ctx.set_peer_identity(token->claims.subject);
    return next.Request(ctx, request);
  }
};

// The registry client of a fake: through the nsmgr, with a per-RPC token and a registry path.
template <typename Chain, typename Proxy, typename Client>
std::shared_ptr<Chain> RegistryClient(const std::string& nsmgr_url, const Identity& identity,
                                      std::shared_ptr<sdk::ChannelPool> channels) {
  RegistryProxyOptions options;
  options.registry_url = nsmgr_url;
  options.signer = identity.signer;
  return *Chain::Make({std::make_shared<Proxy>(options), std::make_shared<Client>(channels)});
}

// The endpoint side of a fake forwarder: finds the endpoint through the nsmgr and points the
// connect element at it.
class FindEndpoint : public sdk::NetworkServiceElement {
 public:
  explicit FindEndpoint(std::shared_ptr<sdk::NseRegistryChain> registry)
      : registry_(std::move(registry)) {}

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    auto* conn = request.mutable_connection();
    registry::NetworkServiceEndpointQuery query;
    if (conn->network_service_endpoint_name().empty()) {
      query.mutable_network_service_endpoint()->add_network_service_names(conn->network_service());
    } else {
      query.mutable_network_service_endpoint()->set_name(conn->network_service_endpoint_name());
    }
    auto found = Find(ctx, query);
    if (!found) return absl::NotFoundError("network service endpoint candidates not found");
    conn->set_network_service_endpoint_name(found->name());
    Target(ctx, *found);
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    registry::NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_name(conn.network_service_endpoint_name());
    auto found = Find(ctx, query);
    if (!found) return absl::OkStatus();
    Target(ctx, *found);
    return next.Close(ctx, conn);
  }

 private:
  std::optional<registry::NetworkServiceEndpoint> Find(
      sdk::Context& ctx, const registry::NetworkServiceEndpointQuery& query) {
    sdk::Context registry_ctx(ctx.clock());
    std::optional<registry::NetworkServiceEndpoint> found;
    sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
        [&](const registry::NetworkServiceEndpointResponse& response) {
          if (!response.deleted() && !found) found = response.network_service_endpoint();
          return absl::OkStatus();
        });
    if (!registry_->Find(registry_ctx, query, sink).ok()) return std::nullopt;
    return found;
  }
  static void Target(sdk::Context& ctx, const registry::NetworkServiceEndpoint& nse) {
    ctx.values().Set(std::make_shared<sdk::ClientUrl>(sdk::ClientUrl{nse.url()}));
    if (!nse.path_ids().empty()) {
      ctx.values().Set(
          std::make_shared<sdk::NextHopIdentity>(sdk::NextHopIdentity{nse.path_ids(0)}));
    }
  }

  std::shared_ptr<sdk::NseRegistryChain> registry_;
};

// A forwarder that only discovers and connects: no data plane.
class FakeForwarder {
 public:
  FakeForwarder(const std::string& name, const std::string& socket,
                std::map<std::string, std::string> labels, const std::string& nsmgr_url,
                sdk::Clock& clock)
      : name_(name), url_("unix://" + socket), labels_(std::move(labels)), identity_(name, clock) {
    channels_ = std::make_shared<sdk::ChannelPool>();
    nse_registry_ =
        RegistryClient<sdk::NseRegistryChain, NseRegistryProxy, sdk::NseRegistryGrpcClient>(
            nsmgr_url, identity_, channels_);
    auto client = sdk::testing::MakeChain({
        std::make_shared<sdk::UpdatePath>(name),
        std::make_shared<sdk::Begin>(sdk::Begin::Side::kClient),
        std::make_shared<sdk::ConnectionMetadata>(),
        std::make_shared<sdk::UpdateTokenClient>(identity_.signer),
        std::make_shared<sdk::TrimPathClient>(),
        std::make_shared<sdk::NetworkServiceGrpcClient>(channels_),
    });
    chain_ = sdk::testing::MakeChain({
        std::make_shared<sdk::UpdatePath>(name),
        std::make_shared<sdk::Begin>(),
        std::make_shared<sdk::UpdateTokenServer>(identity_.signer),
        std::make_shared<sdk::ConnectionMetadata>(),
        std::make_shared<sdk::MonitorServer>(monitor_),
        std::make_shared<sdk::TrimPathServer>(),
        recorder_,
        std::make_shared<FindEndpoint>(nse_registry_),
        client,
    });
    network_service_ = std::make_unique<sdk::NetworkServiceGrpcServer>(chain_, clock);
    monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(monitor_);
    server_ = Serve(socket, {network_service_.get(), monitor_service_.get()});
  }
  ~FakeForwarder() {
    Stop();
    CloseAll();
  }

  absl::Status Register(sdk::Clock& clock) {
    registry::NetworkServiceEndpoint nse;
    nse.set_name(name_);
    nse.add_network_service_names("forwarder");
    auto& labels = *(*nse.mutable_network_service_labels())["forwarder"].mutable_labels();
    for (const auto& [k, v] : labels_) labels[k] = v;
    nse.set_url(url_);
    sdk::Context ctx(clock);
    return nse_registry_->Register(ctx, nse).status();
  }
  // The forwarder dies: its server goes away (monitor streams break).
  void Stop() {
    if (server_ == nullptr) return;
    monitor_service_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_.reset();
  }
  // Lets go of what a dead instance still holds in process.
  void CloseAll() {
    for (auto [id, conn] : monitor_->Connections()) {
      sdk::Context ctx;
      ctx.set_deadline(absl::Now() + absl::Seconds(5));
      (void)chain_->Close(ctx, conn);
    }
  }

  const std::string& name() const { return name_; }
  const std::string& url() const { return url_; }
  const Identity& identity() const { return identity_; }
  Recorder& recorder() { return *recorder_; }
  sdk::ConnectionMonitor& monitor() { return *monitor_; }

 private:
  std::string name_;
  std::string url_;
  std::map<std::string, std::string> labels_;
  Identity identity_;
  std::shared_ptr<sdk::ChannelPool> channels_;
  std::shared_ptr<sdk::NseRegistryChain> nse_registry_;
  std::shared_ptr<Recorder> recorder_ = std::make_shared<Recorder>();
  std::shared_ptr<sdk::ConnectionMonitor> monitor_ = std::make_shared<sdk::ConnectionMonitor>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> network_service_;
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
  std::unique_ptr<grpc::Server> server_;
};

// The endpoint's own work: a point-to-point pair of addresses and a KERNEL mechanism.
class Endpoint : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    auto* conn = request.mutable_connection();
    auto* ip = conn->mutable_context()->mutable_ip_context();
    if (ip->src_ip_addrs().empty()) ip->add_src_ip_addrs("169.254.0.1/32");
    if (ip->dst_ip_addrs().empty()) ip->add_dst_ip_addrs("169.254.0.0/32");
    conn->mutable_mechanism()->set_cls(std::string(api::cls::kLocal));
    conn->mutable_mechanism()->set_type(std::string(api::mechanism::kKernel));
    return next.Request(ctx, request);
  }
};

class FakeEndpoint {
 public:
  FakeEndpoint(const std::string& name, const std::string& socket, const std::string& nsmgr_url,
               sdk::Clock& clock)
      : name_(name), url_("unix://" + socket), identity_(name, clock) {
    auto channels = std::make_shared<sdk::ChannelPool>();
    nse_registry_ =
        RegistryClient<sdk::NseRegistryChain, NseRegistryProxy, sdk::NseRegistryGrpcClient>(
            nsmgr_url, identity_, channels);
    ns_registry_ = RegistryClient<sdk::NsRegistryChain, NsRegistryProxy, sdk::NsRegistryGrpcClient>(
        nsmgr_url, identity_, channels);
    chain_ = sdk::testing::MakeChain({
        std::make_shared<sdk::UpdatePath>(name),
        std::make_shared<sdk::Begin>(),
        std::make_shared<ClaimedPeer>(),
        std::make_shared<sdk::UpdateTokenServer>(identity_.signer),
        std::make_shared<sdk::ConnectionMetadata>(),
        std::make_shared<sdk::MonitorServer>(monitor_),
        std::make_shared<sdk::TrimPathServer>(),
        recorder_,
        std::make_shared<Endpoint>(),
    });
    network_service_ = std::make_unique<sdk::NetworkServiceGrpcServer>(chain_, clock);
    monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(monitor_);
    server_ = Serve(socket, {network_service_.get(), monitor_service_.get()});
  }
  ~FakeEndpoint() {
    monitor_service_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    for (auto [id, conn] : monitor_->Connections()) {
      sdk::Context ctx;
      (void)chain_->Close(ctx, conn);
    }
  }

  absl::Status RegisterService(sdk::Clock& clock, registry::NetworkService ns) {
    sdk::Context ctx(clock);
    return ns_registry_->Register(ctx, ns).status();
  }
  absl::StatusOr<registry::NetworkServiceEndpoint> Register(
      sdk::Clock& clock, const std::vector<std::string>& services) {
    registry::NetworkServiceEndpoint nse;
    nse.set_name(name_);
    for (const auto& s : services) nse.add_network_service_names(s);
    nse.set_url(url_);
    sdk::Context ctx(clock);
    return nse_registry_->Register(ctx, nse);
  }

  const std::string& url() const { return url_; }
  const Identity& identity() const { return identity_; }
  Recorder& recorder() { return *recorder_; }

 private:
  std::string name_;
  std::string url_;
  Identity identity_;
  std::shared_ptr<sdk::NseRegistryChain> nse_registry_;
  std::shared_ptr<sdk::NsRegistryChain> ns_registry_;
  std::shared_ptr<Recorder> recorder_ = std::make_shared<Recorder>();
  std::shared_ptr<sdk::ConnectionMonitor> monitor_ = std::make_shared<sdk::ConnectionMonitor>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> network_service_;
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
  std::unique_ptr<grpc::Server> server_;
};

class NsmgrSandbox : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nsmgr-sandbox-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    prefixes_file_ = dir_ / "excluded_prefixes.yaml";
    WritePrefixes("prefixes:\n  - 10.96.0.0/12\n");

    // The registry, on a clock of its own that never moves: entries there do not expire.
    registryd::RegistryOptions registry_options;
    registry_options.token_signer = registry_identity_.signer;
    registry_options.clock = &registry_clock_;
    registry_ = *registryd::RegistryServer::Create(std::move(registry_options));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + Socket("registry"), grpc::InsecureServerCredentials());
    registry_->RegisterServices(builder);
    registry_server_ = builder.BuildAndStart();
    ASSERT_NE(registry_server_, nullptr);

    StartNsmgr(kNsmgrName, nsmgr_identity_, "node-1", nsmgr_, nsmgr_server_);
    ASSERT_NE(nsmgr_server_, nullptr);
  }

  // An nsmgr on the sandbox clock, registered with the sandbox registry, serving on
  // <dir>/<name>.sock (which is also its public URL).
  void StartNsmgr(const std::string& name, const Identity& identity, const std::string& node,
                  std::unique_ptr<NsmgrServer>& nsmgr, std::unique_ptr<grpc::Server>& server) {
    NsmgrOptions options;
    options.name = name;
    options.signer = identity.signer;
    options.url = "unix://" + Socket(name);
    options.registry_url = "unix://" + Socket("registry");
    options.excluded_prefixes.file = prefixes_file_.string();
    options.excluded_prefixes.poll_interval = kPollInterval;
    options.env = [node](std::string_view var) -> std::optional<std::string> {
      if (var == "NODE_NAME") return node;
      return std::nullopt;
    };
    options.clock = &clock_;
    nsmgr = *NsmgrServer::Create(std::move(options));
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + Socket(name), grpc::InsecureServerCredentials());
    nsmgr->RegisterServices(builder);
    server = builder.BuildAndStart();
  }

  void TearDown() override {
    // Close what is still open so that every chain lets go of its connections.
    for (auto& [id, conn] : open_) {
      sdk::Context ctx(clock_);
      ctx.set_deadline(clock_.Now() + kRequestTimeout);
      (void)nsc_->Close(ctx, conn);
    }
    open_.clear();
    forwarders_.clear();
    endpoint_.reset();
    StopNsmgr(nsmgr2_, nsmgr2_server_);
    if (nsmgr_ != nullptr) nsmgr_->StopMonitorStreams();
    if (nsmgr_server_ != nullptr) {
      nsmgr_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    }
    for (auto [id, conn] : nsmgr_ ? nsmgr_->monitor()->Connections()
                                  : std::map<std::string, connection::Connection>{}) {
      sdk::Context ctx(clock_);
      (void)nsmgr_->chain()->Close(ctx, conn);
    }
    nsmgr_.reset();
    if (registry_server_ != nullptr) {
      registry_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    }
    registry_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  void StopNsmgr(std::unique_ptr<NsmgrServer>& nsmgr, std::unique_ptr<grpc::Server>& server) {
    if (nsmgr == nullptr) return;
    nsmgr->StopMonitorStreams();
    server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    for (auto [id, conn] : nsmgr->monitor()->Connections()) {
      sdk::Context ctx(clock_);
      (void)nsmgr->chain()->Close(ctx, conn);
    }
    nsmgr.reset();
  }

  std::string Socket(const std::string& name) const { return (dir_ / (name + ".sock")).string(); }
  std::string NsmgrUrl() const { return nsmgr_->url(); }

  void WritePrefixes(const std::string& yaml) {
    std::ofstream out(prefixes_file_, std::ios::trunc);
    out << yaml;
  }

  FakeForwarder& AddForwarder(const std::string& name, std::map<std::string, std::string> labels,
                              const std::string& socket_suffix = "",
                              const std::string& nsmgr_url = "") {
    auto forwarder =
        std::make_unique<FakeForwarder>(name, Socket(name + socket_suffix), std::move(labels),
                                        nsmgr_url.empty() ? NsmgrUrl() : nsmgr_url, clock_);
    EXPECT_TRUE(forwarder->Register(clock_).ok());
    FakeForwarder& ref = *forwarder;
    forwarders_.push_back(std::move(forwarder));
    return ref;
  }
  void AddEndpoint(const std::vector<registry::NetworkService>& services,
                   const std::string& nsmgr_url = "") {
    endpoint_ = std::make_unique<FakeEndpoint>("nse-1", Socket("nse-1"),
                                               nsmgr_url.empty() ? NsmgrUrl() : nsmgr_url, clock_);
    std::vector<std::string> names;
    for (const auto& ns : services) {
      ASSERT_TRUE(endpoint_->RegisterService(clock_, ns).ok());
      names.push_back(ns.name());
    }
    auto registered = endpoint_->Register(clock_, names);
    ASSERT_TRUE(registered.ok()) << registered.status();
  }
  static registry::NetworkService Service(const std::string& name) {
    registry::NetworkService ns;
    ns.set_name(name);
    return ns;
  }

  void BuildNsc() {
    nsc_ = sdk::testing::MakeChain({
        std::make_shared<sdk::UpdatePath>("nsc"),
        std::make_shared<sdk::Begin>(sdk::Begin::Side::kClient),
        std::make_shared<sdk::ConnectionMetadata>(),
        std::make_shared<NextHop>(nsmgr_identity_.id),
        std::make_shared<sdk::UpdateTokenClient>(nsc_identity_.signer),
        std::make_shared<sdk::ClientUrlElement>(NsmgrUrl()),
        std::make_shared<sdk::NetworkServiceGrpcClient>(nsc_channels_),
    });
  }

  absl::StatusOr<connection::Connection> Connect(const std::string& id,
                                                 const std::string& service) {
    if (nsc_ == nullptr) BuildNsc();
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id(id);
    request.mutable_connection()->set_network_service(service);
    auto* preference = request.add_mechanism_preferences();
    preference->set_cls(std::string(api::cls::kLocal));
    preference->set_type(std::string(api::mechanism::kKernel));
    sdk::Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + kRequestTimeout);
    auto conn = nsc_->Request(ctx, request);
    if (conn.ok()) open_[id] = *conn;
    return conn;
  }
  absl::Status Disconnect(const std::string& id) {
    auto it = open_.find(id);
    if (it == open_.end()) return absl::NotFoundError(id);
    connection::Connection conn = it->second;
    open_.erase(it);
    sdk::Context ctx(clock_);
    ctx.set_deadline(clock_.Now() + kRequestTimeout);
    return nsc_->Close(ctx, conn);
  }

  std::unique_ptr<sdk::MonitorConnectionGrpcStream> MonitorNsmgr(
      const connection::MonitorScopeSelector& selector = {}) {
    auto channel = nsc_channels_->Get(NsmgrUrl());
    return sdk::MonitorConnectionGrpcStream::Open(*channel, selector);
  }
  // The next event about connection `id` of type `type` (skipping others).
  static std::optional<connection::Connection> NextEvent(sdk::MonitorConnectionGrpcStream& stream,
                                                         connection::ConnectionEventType type,
                                                         const std::string& id) {
    for (int i = 0; i < 20; ++i) {
      auto event = stream.Next();
      if (!event.ok()) return std::nullopt;
      if (event->type() != type) continue;
      auto it = event->connections().find(id);
      if (it != event->connections().end()) return it->second;
    }
    return std::nullopt;
  }

  std::vector<registry::NetworkServiceEndpoint> FindThroughNsmgr(const std::string& name) {
    auto client =
        RegistryClient<sdk::NseRegistryChain, NseRegistryProxy, sdk::NseRegistryGrpcClient>(
            NsmgrUrl(), nsc_identity_, nsc_channels_);
    registry::NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_name(name);
    std::vector<registry::NetworkServiceEndpoint> found;
    sdk::FunctionSink<registry::NetworkServiceEndpointResponse> sink(
        [&](const registry::NetworkServiceEndpointResponse& response) {
          found.push_back(response.network_service_endpoint());
          return absl::OkStatus();
        });
    sdk::Context ctx(clock_);
    EXPECT_TRUE(client->Find(ctx, query, sink).ok());
    return found;
  }

  fs::path dir_;
  fs::path prefixes_file_;
  sdk::FakeClock clock_;
  sdk::FakeClock registry_clock_;
  Identity registry_identity_{"registry", registry_clock_};
  Identity nsmgr_identity_{kNsmgrName, clock_};
  Identity nsc_identity_{"nsc", clock_, kNscTokenLifetime};
  std::unique_ptr<registryd::RegistryServer> registry_;
  std::unique_ptr<grpc::Server> registry_server_;
  std::unique_ptr<NsmgrServer> nsmgr_;
  std::unique_ptr<grpc::Server> nsmgr_server_;
  // A second node's nsmgr, for remote connections.
  Identity nsmgr2_identity_{"nsmgr-2", clock_};
  std::unique_ptr<NsmgrServer> nsmgr2_;
  std::unique_ptr<grpc::Server> nsmgr2_server_;
  std::vector<std::unique_ptr<FakeForwarder>> forwarders_;
  std::unique_ptr<FakeEndpoint> endpoint_;
  std::shared_ptr<sdk::ChannelPool> nsc_channels_ = std::make_shared<sdk::ChannelPool>();
  std::shared_ptr<sdk::NetworkServiceChain> nsc_;
  std::map<std::string, connection::Connection> open_;
};

// The state of connection `id` in the next UPDATE events until it is `state`.
bool WaitForState(sdk::MonitorConnectionGrpcStream& stream, const std::string& id,
                  connection::State state) {
  for (int i = 0; i < 20; ++i) {
    auto event = stream.Next();
    if (!event.ok()) return false;
    auto it = event->connections().find(id);
    if (event->type() == connection::UPDATE && it != event->connections().end() &&
        it->second.state() == state) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> SegmentNames(const connection::Connection& conn) {
  std::vector<std::string> names;
  for (const auto& segment : conn.path().path_segments()) names.push_back(segment.name());
  return names;
}

absl::Time Expires(const connection::PathSegment& segment) {
  return *sdk::tools::FromProtoTimestamp(segment.expires());
}

std::vector<std::string> Excluded(const networkservice::NetworkServiceRequest& request) {
  const auto& prefixes = request.connection().context().ip_context().excluded_prefixes();
  return {prefixes.begin(), prefixes.end()};
}

TEST_F(NsmgrSandbox, LocalConnectionPathTokensAndMonitorEvents) {
  FakeForwarder& forwarder = AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  auto monitor = MonitorNsmgr();
  auto initial = monitor->Next();
  ASSERT_TRUE(initial.ok()) << initial.status();
  EXPECT_EQ(initial->type(), connection::INITIAL_STATE_TRANSFER);
  EXPECT_TRUE(initial->connections().empty());

  const absl::Time start = clock_.Now();
  auto conn = Connect("nsc-0", "icmp");
  ASSERT_TRUE(conn.ok()) << conn.status();

  // The NSC's view: its own id and index, the whole path of four hops (spec §1, §5.1).
  EXPECT_EQ(conn->id(), "nsc-0");
  EXPECT_EQ(conn->state(), connection::UP);
  EXPECT_EQ(conn->network_service_endpoint_name(), "nse-1");
  EXPECT_EQ(conn->path().index(), 0u);
  ASSERT_EQ(SegmentNames(*conn), (std::vector<std::string>{"nsc", kNsmgrName, "fwd-1", "nse-1"}));
  const auto& segments = conn->path().path_segments();
  EXPECT_EQ(segments[0].id(), "nsc-0");
  for (int i = 1; i < 4; ++i) EXPECT_TRUE(sdk::tools::IsUuidText(segments[i].id())) << i;
  EXPECT_NE(segments[1].id(), segments[2].id());
  EXPECT_NE(segments[2].id(), segments[3].id());

  // Each hop saw its own segment at the index, its connection id = that segment's id.
  ASSERT_EQ(forwarder.recorder().request_count(), 1u);
  const connection::Connection at_forwarder = forwarder.recorder().requests()[0].connection();
  EXPECT_EQ(at_forwarder.id(), segments[2].id());
  EXPECT_EQ(at_forwarder.path().index(), 2u);
  ASSERT_EQ(endpoint_->recorder().request_count(), 1u);
  const connection::Connection at_endpoint = endpoint_->recorder().requests()[0].connection();
  EXPECT_EQ(at_endpoint.id(), segments[3].id());
  EXPECT_EQ(at_endpoint.path().index(), 3u);
  // The nsmgr's clientinfo label reached the endpoint.
  EXPECT_EQ(at_endpoint.labels().at("nodeName"), "node-1");

  // Tokens: each segment's token is its hop's (sub), addressed to the next hop (aud), signed
  // ES256 with the hop's key, expiring with the hop's token lifetime; the last one is addressed
  // back to the hop before it.
  const std::vector<const Identity*> hops = {&nsc_identity_, &nsmgr_identity_,
                                             &forwarder.identity(), &endpoint_->identity()};
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(segments[i].name());
    auto token = sdk::tools::ParseJwtUnverified(segments[i].token());
    ASSERT_TRUE(token.ok()) << token.status();
    EXPECT_EQ(token->algorithm, "ES256");
    EXPECT_EQ(token->claims.subject, hops[i]->id);
    const std::string& audience = i < 3 ? hops[i + 1]->id : hops[2]->id;
    EXPECT_EQ(token->claims.audience, std::vector<std::string>{audience});
    EXPECT_TRUE(sdk::tools::VerifyJwtEs256Signature(segments[i].token(), hops[i]->key).ok());
    EXPECT_EQ(Expires(segments[i]), start + (i == 0 ? kNscTokenLifetime : kTokenLifetime));
  }

  // The nsmgr publishes its own view: its id, its index, the whole path.
  auto update = NextEvent(*monitor, connection::UPDATE, segments[1].id());
  ASSERT_TRUE(update.has_value());
  EXPECT_EQ(update->path().index(), 1u);
  EXPECT_EQ(update->path().path_segments_size(), 4);
  EXPECT_EQ(update->state(), connection::UP);

  // A refresh keeps every id and is published again.
  clock_.Advance(absl::Seconds(5));
  auto refreshed = Connect("nsc-0", "icmp");
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  for (int i = 0; i < 4; ++i) EXPECT_EQ(refreshed->path().path_segments(i).id(), segments[i].id());
  EXPECT_EQ(forwarder.recorder().request_count(), 2u);
  EXPECT_EQ(endpoint_->recorder().request_count(), 2u);
  EXPECT_TRUE(NextEvent(*monitor, connection::UPDATE, segments[1].id()).has_value());

  // Close goes hop by hop; the nsmgr publishes DELETE and keeps nothing.
  ASSERT_TRUE(Disconnect("nsc-0").ok());
  EXPECT_EQ(forwarder.recorder().close_count(), 1u);
  EXPECT_EQ(endpoint_->recorder().close_count(), 1u);
  EXPECT_TRUE(NextEvent(*monitor, connection::DELETE, segments[1].id()).has_value());
  EXPECT_TRUE(nsmgr_->monitor()->Connections().empty());
  monitor->Cancel();
}

TEST_F(NsmgrSandbox, RegistryKnowsTheNsmgrUrlFindThroughNsmgrGivesTheLocalOne) {
  AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});

  // The caller of Register gets its own URL back...
  auto again = endpoint_->Register(clock_, {"icmp"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->url(), endpoint_->url());
  EXPECT_TRUE(again->has_expiration_time());

  // ...the registry only knows the nsmgr's URL, and the path the registration took...
  auto stored = registry_->nse_store().Get("nse-1");
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->url(), NsmgrUrl());
  EXPECT_EQ(std::vector<std::string>(stored->path_ids().begin(), stored->path_ids().end()),
            (std::vector<std::string>{endpoint_->identity().id, nsmgr_identity_.id,
                                      registry_identity_.id}));
  EXPECT_EQ(registry_->nse_store().Get("fwd-1")->url(), NsmgrUrl());

  // ...and a Find through the nsmgr returns the real local URLs.
  auto found = FindThroughNsmgr("nse-1");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].url(), endpoint_->url());
  auto forwarder = FindThroughNsmgr("fwd-1");
  ASSERT_EQ(forwarder.size(), 1u);
  EXPECT_EQ(forwarder[0].url(), forwarders_[0]->url());
}

TEST_F(NsmgrSandbox, ForwarderSelectionByLabels) {
  AddForwarder("fwd-1", {{"color", "blue"}});
  AddForwarder("fwd-2", {{"p2p", "true"}});
  registry::NetworkService p2p = Service("p2p");
  p2p.add_matches()->add_routes();  // any endpoint; no metadata labels: p2p forwarders only
  registry::NetworkService blue = Service("blue");
  (*blue.add_matches()->mutable_metadata()->mutable_labels())["color"] = "blue";
  AddEndpoint({Service("any"), p2p, blue});

  auto any = Connect("c-any", "any");
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(any->path().path_segments(2).name(), "fwd-1");  // no matches: the first one
  auto by_default = Connect("c-p2p", "p2p");
  ASSERT_TRUE(by_default.ok()) << by_default.status();
  EXPECT_EQ(by_default->path().path_segments(2).name(), "fwd-2");
  auto by_label = Connect("c-blue", "blue");
  ASSERT_TRUE(by_label.ok()) << by_label.status();
  EXPECT_EQ(by_label->path().path_segments(2).name(), "fwd-1");
}

TEST_F(NsmgrSandbox, StaysWithItsForwarderAfterTheForwarderReRegisters) {
  FakeForwarder& first = AddForwarder("fwd-1", {{"p2p", "true"}});
  FakeForwarder& second = AddForwarder("fwd-2", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  first.recorder().on_request = [](sdk::Context&, networkservice::NetworkServiceRequest&) {
    return absl::UnavailableError("busy");
  };
  auto conn = Connect("nsc-0", "icmp");
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(conn->path().path_segments(2).name(), "fwd-2");
  EXPECT_EQ(first.recorder().request_count(), 1u);
  first.recorder().on_request = nullptr;

  // fwd-2 restarts on another socket and registers again; fwd-1 would take requests again.
  second.Stop();
  FakeForwarder& restarted = AddForwarder("fwd-2", {{"p2p", "true"}}, "-restarted");
  auto refreshed = Connect("nsc-0", "icmp");
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  EXPECT_EQ(refreshed->path().path_segments(2).name(), "fwd-2");
  EXPECT_EQ(refreshed->path().path_segments(2).id(), conn->path().path_segments(2).id());
  EXPECT_EQ(restarted.recorder().request_count(), 1u);
  EXPECT_EQ(first.recorder().request_count(), 1u);
}

TEST_F(NsmgrSandbox, ForwarderDeathIsPublishedAsDown) {
  FakeForwarder& forwarder = AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  auto monitor = MonitorNsmgr();
  ASSERT_TRUE(monitor->Next().ok());  // initial transfer
  auto conn = Connect("nsc-0", "icmp");
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string nsmgr_id = conn->path().path_segments(1).id();
  ASSERT_TRUE(WaitForState(*monitor, nsmgr_id, connection::UP));

  forwarder.Stop();
  EXPECT_TRUE(WaitForState(*monitor, nsmgr_id, connection::DOWN));
  monitor->Cancel();
}

TEST_F(NsmgrSandbox, ExcludedPrefixesFromTheFileAndItsReload) {
  AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  ASSERT_TRUE(Connect("c-1", "icmp").ok());
  EXPECT_EQ(Excluded(endpoint_->recorder().requests().back()),
            std::vector<std::string>{"10.96.0.0/12"});

  WritePrefixes("prefixes:\n  - 10.96.0.0/12\n  - 172.16.0.0/16\n");
  clock_.Advance(kPollInterval);
  EXPECT_EQ(nsmgr_->excluded_prefixes().prefixes(),
            (std::vector<std::string>{"10.96.0.0/12", "172.16.0.0/16"}));
  ASSERT_TRUE(Connect("c-2", "icmp").ok());
  EXPECT_EQ(Excluded(endpoint_->recorder().requests().back()),
            (std::vector<std::string>{"10.96.0.0/12", "172.16.0.0/16"}));

  // A broken file keeps the prefixes in force.
  WritePrefixes("prefixes: [not-a-prefix, 10.0.0.0/8, {}]\n");
  clock_.Advance(kPollInterval);
  EXPECT_FALSE(nsmgr_->excluded_prefixes().load_status().ok());
  ASSERT_TRUE(Connect("c-3", "icmp").ok());
  EXPECT_EQ(Excluded(endpoint_->recorder().requests().back()),
            (std::vector<std::string>{"10.96.0.0/12", "172.16.0.0/16"}));
}

TEST_F(NsmgrSandbox, HopTimeoutClosesThePathWhenTheClientsTokenExpires) {
  FakeForwarder& forwarder = AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  auto monitor = MonitorNsmgr();
  ASSERT_TRUE(monitor->Next().ok());
  auto conn = Connect("nsc-0", "icmp");
  ASSERT_TRUE(conn.ok()) << conn.status();
  const std::string nsmgr_id = conn->path().path_segments(1).id();

  // Not yet: the client's token is still valid for longer than a request may take.
  clock_.Advance(kNscTokenLifetime - kRequestTimeout - absl::Seconds(2));
  EXPECT_EQ(forwarder.recorder().close_count(), 0u);
  EXPECT_EQ(nsmgr_->monitor()->Connections().size(), 1u);

  // The client never refreshed: the nsmgr closes the path downstream by itself.
  clock_.Advance(absl::Seconds(4));
  EXPECT_EQ(forwarder.recorder().close_count(), 1u);
  EXPECT_EQ(endpoint_->recorder().close_count(), 1u);
  EXPECT_TRUE(nsmgr_->monitor()->Connections().empty());
  EXPECT_TRUE(NextEvent(*monitor, connection::DELETE, nsmgr_id).has_value());
  monitor->Cancel();
}

TEST_F(NsmgrSandbox, ServiceChangeThatExcludesTheEndpointClosesTheConnection) {
  FakeForwarder& forwarder = AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  auto conn = Connect("nsc-0", "icmp");
  ASSERT_TRUE(conn.ok()) << conn.status();

  // The service now routes to endpoints labelled color=red; nse-1 has no such label.
  registry::NetworkService changed = Service("icmp");
  (*changed.add_matches()->add_routes()->mutable_destination_selector())["color"] = "red";
  ASSERT_TRUE(endpoint_->RegisterService(clock_, changed).ok());
  EXPECT_TRUE(Eventually([&] { return forwarder.recorder().close_count() == 1; }));
  EXPECT_TRUE(Eventually([&] { return nsmgr_->monitor()->Connections().empty(); }));
}

TEST_F(NsmgrSandbox, BadRequestsGetClearErrorsAndLeaveNothing) {
  FakeForwarder& forwarder = AddForwarder("fwd-1", {{"p2p", "true"}});
  AddEndpoint({Service("icmp")});
  auto monitor = MonitorNsmgr();
  ASSERT_TRUE(monitor->Next().ok());

  auto no_service = Connect("bad-1", "");
  EXPECT_EQ(no_service.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(no_service.status().message().find("connection.network_service"), std::string::npos)
      << no_service.status();
  auto unknown = Connect("bad-2", "nope");
  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(unknown.status().message().find("network service nope is not found"), std::string::npos)
      << unknown.status();

  EXPECT_TRUE(nsmgr_->monitor()->Connections().empty());
  EXPECT_EQ(forwarder.recorder().request_count(), 0u);
  EXPECT_EQ(endpoint_->recorder().request_count(), 0u);

  // The next event the monitor sees is about a good connection, not the failed ones.
  auto good = Connect("good", "icmp");
  ASSERT_TRUE(good.ok()) << good.status();
  auto event = monitor->Next();
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->type(), connection::UPDATE);
  ASSERT_EQ(event->connections().size(), 1u);
  EXPECT_EQ(event->connections().begin()->first, good->path().path_segments(1).id());
  monitor->Cancel();
}

TEST_F(NsmgrSandbox, RemoteEndpointIsReachedThroughTheOtherNodesNsmgr) {
  StartNsmgr("nsmgr-2", nsmgr2_identity_, "node-2", nsmgr2_, nsmgr2_server_);
  ASSERT_NE(nsmgr2_server_, nullptr);
  const std::string nsmgr2_url = nsmgr2_->url();
  FakeForwarder& local = AddForwarder("fwd-1", {{"p2p", "true"}});
  FakeForwarder& remote = AddForwarder("fwd-2", {{"p2p", "true"}}, "", nsmgr2_url);
  AddEndpoint({Service("icmp")}, nsmgr2_url);

  // Node 1 sees the endpoint at node 2's nsmgr; node 2 sees its real URL.
  auto seen_from_node1 = FindThroughNsmgr("nse-1");
  ASSERT_EQ(seen_from_node1.size(), 1u);
  EXPECT_EQ(seen_from_node1[0].url(), nsmgr2_url);
  // Node 2's forwarder shows under node 2's URL, so node 1's discovery (own URL) never picks it.
  auto other_forwarder = FindThroughNsmgr("fwd-2");
  ASSERT_EQ(other_forwarder.size(), 1u);
  EXPECT_EQ(other_forwarder[0].url(), nsmgr2_url);

  auto conn = Connect("nsc-0", "icmp");
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ(SegmentNames(*conn),
            (std::vector<std::string>{"nsc", kNsmgrName, "fwd-1", "nsmgr-2", "fwd-2", "nse-1"}));
  for (int i = 0; i < 6; ++i) {
    auto token = sdk::tools::ParseJwtUnverified(conn->path().path_segments(i).token());
    ASSERT_TRUE(token.ok()) << i;
    EXPECT_EQ(token->claims.subject, IdOf(conn->path().path_segments(i).name())) << i;
  }
  EXPECT_EQ(local.recorder().request_count(), 1u);
  ASSERT_EQ(remote.recorder().request_count(), 1u);
  // Node 2's forwarder got the request with the endpoint already chosen; labels are the client's
  // (node 2's nsmgr adds nodeName only where it is absent).
  const connection::Connection at_remote = remote.recorder().requests()[0].connection();
  EXPECT_EQ(at_remote.network_service_endpoint_name(), "nse-1");
  EXPECT_EQ(at_remote.labels().at("nodeName"), "node-1");
  EXPECT_EQ(nsmgr2_->monitor()->Connections().size(), 1u);

  ASSERT_TRUE(Disconnect("nsc-0").ok());
  EXPECT_EQ(remote.recorder().close_count(), 1u);
  EXPECT_EQ(endpoint_->recorder().close_count(), 1u);
  EXPECT_TRUE(nsmgr2_->monitor()->Connections().empty());
}

}  // namespace
}  // namespace nsmcert::nsmgr
