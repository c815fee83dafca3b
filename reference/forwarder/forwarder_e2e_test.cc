// End to end: two nsmcert-forwarder processes, each in its own node namespace, the nodes joined
// by an underlay; a client and an endpoint namespace on each node. Test doubles play the nsmgrs
// (they serve the registry calls and forward requests), the endpoints and the client. ICMP crosses
// a local KERNEL<->KERNEL connection on node A and a remote KERNEL->VXLAN->KERNEL connection from
// node A to node B; a capture on node A's underlay shows UDP 4789 with the VNI node B chose and
// the inner ICMP. Closing both connections leaves every namespace as it was. Needs root.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc_health.grpc.pb.h"
#include "pcap/capture.h"
#include "pcap/decoder.h"
#include "pcap/netns.h"
#include "reference/forwarder/testing.h"
#include "reference/kernel/testing.h"
#include "reference/sdk/elements/clienturl.h"
#include "reference/sdk/elements/connection_monitor.h"
#include "reference/sdk/elements/monitor.h"
#include "reference/sdk/elements/updatepath.h"
#include "reference/sdk/elements/updatetoken.h"
#include "reference/sdk/grpc/monitor_client.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_client.h"
#include "reference/sdk/grpc/network_service_server.h"
#include "reference/sdk/grpc/registry_server.h"
#include "reference/sdk/tools/spiffe_id.h"

extern char** environ;

namespace nsmcert::forwarder {
namespace {

using kernel::testing::TakeSnapshot;
using kernel::testing::TestNetNs;
using ::testing::ElementsAre;

std::shared_ptr<sdk::tools::TokenSigner> Signer(const std::string& name) {
  auto id = sdk::tools::SpiffeId::Parse("spiffe://nsmcert.test/" + name);
  return std::make_shared<sdk::tools::Hs256TokenSigner>(*id, "test-secret");
}

std::shared_ptr<sdk::NetworkServiceChain> Chain(
    std::vector<std::shared_ptr<sdk::NetworkServiceElement>> elements) {
  return testing::Chain(std::move(elements));
}

// A temporary directory for sockets and logs, removed at the end.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-fwd-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  std::string Unix(const std::string& name) const { return "unix://" + File(name); }

 private:
  std::string path_;
};

// The nsmcert-forwarder binary running inside a named namespace (entered between fork and exec).
class ForwarderProcess {
 public:
  static std::unique_ptr<ForwarderProcess> Start(const std::string& netns,
                                                 std::map<std::string, std::string> env,
                                                 const std::string& log) {
    std::vector<std::string> vars;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string var = *e;
      if (!var.starts_with("NSM_")) vars.push_back(var);
    }
    for (auto& [k, v] : env) vars.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& v : vars) envp.push_back(v.data());
    envp.push_back(nullptr);
    std::string binary = NSMCERT_FORWARDER_BINARY;
    char* argv[] = {binary.data(), nullptr};
    const std::string ns_path = std::string(kernel::kNamedNetNsDir) + "/" + netns;
    pid_t pid = fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec.
      int ns = open(ns_path.c_str(), O_RDONLY | O_CLOEXEC);
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (ns < 0 || out < 0 || setns(ns, CLONE_NEWNET) != 0) _exit(126);
      dup2(out, 1);
      dup2(out, 2);
      execve(binary.c_str(), argv, envp.data());
      _exit(127);
    }
    if (pid < 0) return nullptr;
    return std::unique_ptr<ForwarderProcess>(new ForwarderProcess(pid, log));
  }
  ~ForwarderProcess() { (void)Stop(); }

  // SIGTERM, then SIGKILL after 10 s. Returns the exit status (-1 when it had to be killed).
  int Stop() {
    if (pid_ <= 0) return exit_code_;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 1000; ++i) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        pid_ = 0;
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
    return exit_code_ = -1;
  }
  bool running() const { return pid_ > 0 && waitpid(pid_, nullptr, WNOHANG) == 0; }
  std::string Log() const {
    std::ifstream in(log_);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  ForwarderProcess(pid_t pid, std::string log) : pid_(pid), log_(std::move(log)) {}
  pid_t pid_;
  std::string log_;
  int exit_code_ = -1;
};

// Records the connection each Request returned (the nsmgr double learns the tunnel's VNI here).
class ResponseRecorder : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    auto conn = next.Request(ctx, request);
    std::lock_guard lock(mu_);
    if (conn.ok()) last_ = *conn;
    return conn;
  }
  std::optional<connection::Connection> last() const {
    std::lock_guard lock(mu_);
    return last_;
  }

 private:
  mutable std::mutex mu_;
  std::optional<connection::Connection> last_;
};

// Plays an nsmgr: serves both registries from memory (as this nsmgr's Find would answer, URLs
// already rewritten) and forwards NetworkService calls to its forwarder.
class NsmgrDouble {
 public:
  NsmgrDouble(std::string name, std::string forwarder_url)
      : name_(std::move(name)), signer_(Signer(name_)) {
    ns_registry = std::make_shared<testing::FakeNsRegistry>();
    nse_registry = std::make_shared<testing::FakeNseRegistry>();
    nse_registry->expiry = absl::Minutes(1);
    responses = std::make_shared<ResponseRecorder>();
    // Its monitor holds what passed through, as an nsmgr's does: the previous hop's monitor client
    // follows it and would mark the connection DOWN if the nsmgr did not hold it.
    chain_ = Chain(
        {std::make_shared<sdk::UpdatePath>(name_),
         std::make_shared<sdk::UpdateTokenServer>(signer_),
         std::make_shared<sdk::MonitorServer>(monitor_),
         std::make_shared<sdk::ClientUrlElement>(std::move(forwarder_url)),
         std::make_shared<sdk::UpdateTokenClient>(signer_), responses,
         std::make_shared<sdk::NetworkServiceGrpcClient>(std::make_shared<sdk::ChannelPool>())});
  }
  ~NsmgrDouble() {
    if (monitor_service_ != nullptr) monitor_service_->Stop();
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now());
  }

  // Listens on `unix_path` and, when given, on `tcp_host`:0 inside `netns` (the listening
  // socket is made by a thread in that namespace). Returns the tcp URL (or "").
  std::string Start(const std::string& unix_path, const kernel::NetNs* netns = nullptr,
                    const std::string& tcp_host = "") {
    nse_service_ = std::make_unique<sdk::NseRegistryGrpcServer>(nse_registry);
    ns_service_ = std::make_unique<sdk::NsRegistryGrpcServer>(ns_registry);
    ns_server_ = std::make_unique<sdk::NetworkServiceGrpcServer>(chain_);
    monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(monitor_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + unix_path, grpc::InsecureServerCredentials());
    int port = 0;
    if (!tcp_host.empty()) {
      builder.AddListeningPort(tcp_host + ":0", grpc::InsecureServerCredentials(), &port);
    }
    builder.RegisterService(nse_service_.get());
    builder.RegisterService(ns_service_.get());
    builder.RegisterService(ns_server_.get());
    builder.RegisterService(monitor_service_.get());
    if (netns != nullptr) {
      EXPECT_TRUE(kernel::RunInNetNs(*netns, [&] { server_ = builder.BuildAndStart(); }).ok());
    } else {
      server_ = builder.BuildAndStart();
    }
    EXPECT_NE(server_, nullptr);
    return tcp_host.empty() ? "" : absl::StrCat("tcp://", tcp_host, ":", port);
  }

  std::shared_ptr<testing::FakeNsRegistry> ns_registry;
  std::shared_ptr<testing::FakeNseRegistry> nse_registry;
  std::shared_ptr<ResponseRecorder> responses;

 private:
  std::string name_;
  std::shared_ptr<sdk::tools::TokenSigner> signer_;
  std::shared_ptr<sdk::ConnectionMonitor> monitor_ = std::make_shared<sdk::ConnectionMonitor>();
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::unique_ptr<sdk::NseRegistryGrpcServer> nse_service_;
  std::unique_ptr<sdk::NsRegistryGrpcServer> ns_service_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> ns_server_;
  std::unique_ptr<grpc::Server> server_;
};

// Plays an endpoint like cmd-nse-icmp-responder: answers KERNEL with its own namespace, an
// interface name and a point-to-point pair of addresses.
class EndpointDouble : public sdk::NetworkServiceElement {
 public:
  EndpointDouble(std::string netns_url, std::string nse_address, std::string nsc_address)
      : netns_url_(std::move(netns_url)),
        nse_address_(std::move(nse_address)),
        nsc_address_(std::move(nsc_address)) {}

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    {
      std::lock_guard lock(mu_);
      ++requests_;
      offered_ = {request.mechanism_preferences().begin(), request.mechanism_preferences().end()};
    }
    connection::Connection& conn = *request.mutable_connection();
    if (!conn.has_mechanism()) {
      if (request.mechanism_preferences_size() == 0) {
        return absl::InvalidArgumentError("no mechanism offered");
      }
      *conn.mutable_mechanism() = request.mechanism_preferences(0);
    }
    auto& params = *conn.mutable_mechanism()->mutable_parameters();
    params["inodeURL"] = netns_url_;
    if (params["name"].empty()) params["name"] = "nse-if";
    auto* ip = conn.mutable_context()->mutable_ip_context();
    ip->Clear();
    ip->add_src_ip_addrs(nsc_address_ + "/32");
    ip->add_dst_ip_addrs(nse_address_ + "/32");
    ip->add_src_routes()->set_prefix(nse_address_ + "/32");
    ip->add_dst_routes()->set_prefix(nsc_address_ + "/32");
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu_);
    ++closes_;
    return next.Close(ctx, conn);
  }
  int requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  int closes() const {
    std::lock_guard lock(mu_);
    return closes_;
  }
  std::vector<connection::Mechanism> offered() const {
    std::lock_guard lock(mu_);
    return offered_;
  }

 private:
  std::string netns_url_, nse_address_, nsc_address_;
  mutable std::mutex mu_;
  int requests_ = 0, closes_ = 0;
  std::vector<connection::Mechanism> offered_;
};

class EndpointServer {
 public:
  EndpointServer(const std::string& name, const std::string& unix_path,
                 std::shared_ptr<EndpointDouble> endpoint)
      : endpoint(std::move(endpoint)) {
    chain_ = Chain({std::make_shared<sdk::UpdatePath>(name),
                    std::make_shared<sdk::UpdateTokenServer>(Signer(name)),
                    std::make_shared<sdk::MonitorServer>(monitor_), this->endpoint});
    service_ = std::make_unique<sdk::NetworkServiceGrpcServer>(chain_);
    monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(monitor_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + unix_path, grpc::InsecureServerCredentials());
    builder.RegisterService(service_.get());
    builder.RegisterService(monitor_service_.get());
    server_ = builder.BuildAndStart();
  }
  ~EndpointServer() {
    monitor_service_->Stop();
    server_->Shutdown(std::chrono::system_clock::now());
  }
  std::shared_ptr<EndpointDouble> endpoint;

 private:
  std::shared_ptr<sdk::ConnectionMonitor> monitor_ = std::make_shared<sdk::ConnectionMonitor>();
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::unique_ptr<sdk::NetworkServiceGrpcServer> service_;
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
  std::unique_ptr<grpc::Server> server_;
};

bool Serving(const std::string& unix_path) {
  auto stub = grpc::health::v1::Health::NewStub(
      grpc::CreateChannel("unix:" + unix_path, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("networkservice.NetworkService");
  grpc::health::v1::HealthCheckResponse resp;
  return stub->Check(&ctx, req, &resp).ok() &&
         resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
}

registry::NetworkService Service(const std::string& name) {
  registry::NetworkService ns;
  ns.set_name(name);
  ns.set_payload("ETHERNET");
  return ns;
}

class ForwarderEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root";
    for (auto [slot, prefix] : {std::pair{&node_a_, "fwe-node-a"},
                                {&node_b_, "fwe-node-b"},
                                {&nsc_local_, "fwe-nsc-l"},
                                {&nse_local_, "fwe-nse-l"},
                                {&nsc_remote_, "fwe-nsc-r"},
                                {&nse_remote_, "fwe-nse-r"}}) {
      auto ns = TestNetNs::Create(prefix);
      ASSERT_TRUE(ns.ok()) << ns.status();
      *slot = std::make_unique<TestNetNs>(*std::move(ns));
    }
    ASSERT_TRUE(node_a_->nl().CreateVeth("under", "under", &node_b_->ns()).ok());
    ASSERT_TRUE(node_a_->nl().AddAddress("under", "192.0.2.1/24").ok());
    ASSERT_TRUE(node_b_->nl().AddAddress("under", "192.0.2.2/24").ok());
    // The underlay is IPv4 only: an IPv6 link-local address would settle (DAD) at a moment of
    // its own and make namespace snapshots differ for reasons that have nothing to do with the
    // forwarder.
    for (TestNetNs* node : {node_a_.get(), node_b_.get()}) {
      ASSERT_TRUE(kernel::WriteNetSysctl(node->ns(), "net/ipv6/conf/under/disable_ipv6", "1").ok());
      ASSERT_TRUE(node->nl().SetUp("under", true).ok());
    }
  }

  std::map<std::string, kernel::testing::NetNsSnapshot> SnapAll() {
    std::map<std::string, kernel::testing::NetNsSnapshot> all;
    for (TestNetNs* ns : {node_a_.get(), node_b_.get(), nsc_local_.get(), nse_local_.get(),
                          nsc_remote_.get(), nse_remote_.get()}) {
      auto snap = TakeSnapshot(ns->nl());
      EXPECT_TRUE(snap.ok()) << snap.status();
      if (snap.ok()) all[ns->name()] = *snap;
    }
    return all;
  }

  std::unique_ptr<TestNetNs> node_a_, node_b_, nsc_local_, nse_local_, nsc_remote_, nse_remote_;
};

TEST_F(ForwarderEndToEndTest, IcmpCrossesLocalAndRemoteConnectionsAndCloseLeavesNothing) {
  TempDir dir;
  const auto before = SnapAll();

  // Endpoints (their gRPC servers live in the test process; their interfaces go into their
  // namespaces, programmed by the forwarders).
  EndpointServer nse_local("nse-local", dir.File("nse-local.sock"),
                           std::make_shared<EndpointDouble>(nse_local_->ns().InodeUrl(),
                                                            "172.16.1.100", "172.16.1.101"));
  EndpointServer nse_remote("nse-remote", dir.File("nse-remote.sock"),
                            std::make_shared<EndpointDouble>(nse_remote_->ns().InodeUrl(),
                                                             "172.16.2.100", "172.16.2.101"));

  // nsmgr B: reachable from node A over the underlay (tcp), and locally by forwarder B (unix).
  NsmgrDouble nsmgr_b("nsmgr-b", dir.Unix("fwd-b.sock"));
  const std::string nsmgr_b_tcp =
      nsmgr_b.Start(dir.File("nsmgr-b.sock"), &node_b_->ns(), "192.0.2.2");
  ASSERT_FALSE(nsmgr_b_tcp.empty());
  nsmgr_b.ns_registry->Add(Service("remote-svc"));
  nsmgr_b.nse_registry->Add(testing::Nse("nse-remote", "remote-svc", dir.Unix("nse-remote.sock")));

  // nsmgr A: knows its local endpoint by its unix URL and node B's endpoint by nsmgr B's URL.
  NsmgrDouble nsmgr_a("nsmgr-a", dir.Unix("fwd-a.sock"));
  nsmgr_a.Start(dir.File("nsmgr-a.sock"));
  nsmgr_a.ns_registry->Add(Service("local-svc"));
  nsmgr_a.ns_registry->Add(Service("remote-svc"));
  nsmgr_a.nse_registry->Add(testing::Nse("nse-local", "local-svc", dir.Unix("nse-local.sock")));
  nsmgr_a.nse_registry->Add(testing::Nse("nse-remote", "remote-svc", nsmgr_b_tcp));

  auto fwd_b = ForwarderProcess::Start(node_b_->name(),
                                       {{"NSM_NAME", "fwd-b"},
                                        {"NSM_LISTEN_ON", dir.Unix("fwd-b.sock")},
                                        {"NSM_CONNECT_TO", dir.Unix("nsmgr-b.sock")},
                                        {"NSM_TUNNEL_IP", "192.0.2.2"},
                                        {"NSM_LOG_LEVEL", "DEBUG"}},
                                       dir.File("fwd-b.log"));
  auto fwd_a = ForwarderProcess::Start(node_a_->name(),
                                       {{"NSM_NAME", "fwd-a"},
                                        {"NSM_LISTEN_ON", dir.Unix("fwd-a.sock")},
                                        {"NSM_CONNECT_TO", dir.Unix("nsmgr-a.sock")},
                                        {"NSM_TUNNEL_IP", "192.0.2.1"},
                                        {"NSM_LABELS", "p2p:true,nodeName:node-a"}},
                                       dir.File("fwd-a.log"));
  ASSERT_NE(fwd_a, nullptr);
  ASSERT_NE(fwd_b, nullptr);

  // Both register themselves through their nsmgr and serve.
  ASSERT_TRUE(nsmgr_a.nse_registry->WaitRegistered(1, std::chrono::seconds(20))) << fwd_a->Log();
  ASSERT_TRUE(nsmgr_b.nse_registry->WaitRegistered(1, std::chrono::seconds(20))) << fwd_b->Log();
  const registry::NetworkServiceEndpoint reg = nsmgr_a.nse_registry->registered()[0];
  EXPECT_EQ(reg.name(), "fwd-a");
  EXPECT_THAT(reg.network_service_names(), ElementsAre("forwarder"));
  EXPECT_EQ(reg.url(), dir.Unix("fwd-a.sock"));
  EXPECT_EQ(reg.network_service_labels().at("forwarder").labels().at("p2p"), "true");
  EXPECT_EQ(reg.network_service_labels().at("forwarder").labels().at("nodeName"), "node-a");
  EXPECT_TRUE(Serving(dir.File("fwd-a.sock")));
  EXPECT_TRUE(Serving(dir.File("fwd-b.sock")));

  // The client, as cmd-nsc: its path segment, a token, a KERNEL mechanism into its namespace.
  auto nsc_signer = Signer("nsc");
  auto client = Chain(
      {std::make_shared<sdk::UpdatePath>("nsc"),
       std::make_shared<sdk::UpdateTokenClient>(nsc_signer),
       std::make_shared<sdk::ClientUrlElement>(dir.Unix("nsmgr-a.sock")),
       std::make_shared<sdk::NetworkServiceGrpcClient>(std::make_shared<sdk::ChannelPool>())});
  auto request = [&](const std::string& id, const std::string& service, const TestNetNs& ns) {
    networkservice::NetworkServiceRequest r;
    r.mutable_connection()->set_id(id);
    r.mutable_connection()->set_network_service(service);
    auto* m = r.add_mechanism_preferences();
    m->set_cls("LOCAL");
    m->set_type("KERNEL");
    (*m->mutable_parameters())["inodeURL"] = ns.ns().InodeUrl();
    (*m->mutable_parameters())["name"] = "nsm-1";
    sdk::Context ctx;
    ctx.set_deadline(absl::Now() + absl::Seconds(15));
    return client->Request(ctx, r);
  };

  // Local: NSC -> nsmgr A -> forwarder A -> endpoint (4 path segments).
  auto local = request("nsc-local-0", "local-svc", *nsc_local_);
  ASSERT_TRUE(local.ok()) << local.status() << "\n" << fwd_a->Log();
  ASSERT_EQ(local->path().path_segments_size(), 4);
  EXPECT_EQ(local->path().path_segments(2).name(), "fwd-a");
  EXPECT_EQ(local->path().path_segments(3).name(), "nse-local");
  EXPECT_EQ(local->network_service_endpoint_name(), "nse-local");
  ASSERT_EQ(nse_local.endpoint->offered().size(), 1u);
  EXPECT_EQ(nse_local.endpoint->offered()[0].type(), "KERNEL");
  auto replies = kernel::testing::Ping(nsc_local_->ns(), "172.16.1.100", 3, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 3);
  replies = kernel::testing::Ping(nse_local_->ns(), "172.16.1.101", 2, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 2);

  // Remote: NSC -> nsmgr A -> forwarder A =VXLAN=> nsmgr B -> forwarder B -> endpoint.
  auto remote = request("nsc-remote-0", "remote-svc", *nsc_remote_);
  ASSERT_TRUE(remote.ok()) << remote.status() << "\n" << fwd_a->Log() << "\n" << fwd_b->Log();
  ASSERT_EQ(remote->path().path_segments_size(), 6);
  std::vector<std::string> hops;
  for (const auto& s : remote->path().path_segments()) hops.push_back(s.name());
  EXPECT_THAT(hops, ElementsAre("nsc", "nsmgr-a", "fwd-a", "nsmgr-b", "fwd-b", "nse-remote"));
  auto tunnel = nsmgr_b.responses->last();
  ASSERT_TRUE(tunnel.has_value());
  const connection::Mechanism& vxlan = tunnel->mechanism();
  ASSERT_EQ(vxlan.type(), "VXLAN");
  EXPECT_EQ(vxlan.parameters().at("src_ip"), "192.0.2.1");
  EXPECT_EQ(vxlan.parameters().at("dst_ip"), "192.0.2.2");
  EXPECT_EQ(vxlan.parameters().at("dst_port"), "4789");
  EXPECT_EQ(vxlan.parameters().at("MTU"), "1446");
  const std::uint32_t vni = std::stoul(vxlan.parameters().at("vni"));
  EXPECT_EQ(vni % 2, 0u) << "src 192.0.2.1 <= dst 192.0.2.2: even";
  EXPECT_EQ(remote->context().mtu(), 1446u);
  EXPECT_EQ(nsc_remote_->nl().GetLink("nsm-1")->mtu, 1446u);

  // A capture on node A's underlay while ICMP crosses the tunnel.
  pcap::CaptureOptions options;
  options.interface = "under";
  options.filter = "udp port 4789";
  auto capture = pcap::Capture::Start(pcap::NetnsRef::Named(node_a_->name()), options);
  ASSERT_TRUE(capture.ok()) << capture.status();
  replies = kernel::testing::Ping(nsc_remote_->ns(), "172.16.2.100", 3, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 3);
  replies = kernel::testing::Ping(nse_remote_->ns(), "172.16.2.101", 2, 2000);
  ASSERT_TRUE(replies.ok()) << replies.status();
  EXPECT_EQ(*replies, 2);
  ASSERT_TRUE((*capture)->Stop().ok());
  int echo_requests = 0, echo_replies = 0;
  for (const pcap::CapturedPacket& packet : (*capture)->Packets()) {
    pcap::DecodedPacket d = pcap::Decode(packet.data, packet.link_type);
    EXPECT_EQ(d.GetUint("udp.dstport"), 4789u) << d.Summary();
    EXPECT_EQ(d.GetUint("vxlan.vni"), vni) << d.Summary();
    if (!d.Has("inner.icmp.type")) continue;  // ARP inside the tunnel
    const bool outbound = d.GetString("ip.src") == "192.0.2.1";
    if (d.GetUint("inner.icmp.type") == 8 && outbound &&
        d.GetString("inner.ip.src") == "172.16.2.101" &&
        d.GetString("inner.ip.dst") == "172.16.2.100") {
      ++echo_requests;
    }
    if (d.GetUint("inner.icmp.type") == 0 && !outbound &&
        d.GetString("inner.ip.src") == "172.16.2.100") {
      ++echo_replies;
    }
  }
  EXPECT_GE(echo_requests, 3);
  EXPECT_GE(echo_replies, 3);

  // Forwarder A's monitor knows both connections, UP: it follows the next hops' monitors, which
  // did not break.
  {
    auto channel =
        grpc::CreateChannel("unix:" + dir.File("fwd-a.sock"), grpc::InsecureChannelCredentials());
    auto stream =
        sdk::MonitorConnectionGrpcStream::Open(channel, connection::MonitorScopeSelector());
    auto initial = stream->Next();
    ASSERT_TRUE(initial.ok()) << initial.status();
    EXPECT_EQ(initial->type(), connection::INITIAL_STATE_TRANSFER);
    std::vector<std::string> services;
    for (const auto& [id, c] : initial->connections()) {
      services.push_back(c.network_service());
      EXPECT_EQ(c.state(), connection::UP) << c.network_service();
    }
    EXPECT_THAT(services, ::testing::UnorderedElementsAre("local-svc", "remote-svc"));
    stream->Cancel();
  }

  // Close both; every namespace is as it was.
  for (const auto* conn : {&*local, &*remote}) {
    sdk::Context ctx;
    connection::Connection c = *conn;
    EXPECT_TRUE(client->Close(ctx, c).ok());
  }
  EXPECT_EQ(nse_local.endpoint->closes(), 1);
  EXPECT_EQ(nse_remote.endpoint->closes(), 1);
  const auto after = SnapAll();
  for (const auto& [name, snap] : before) {
    EXPECT_EQ(snap, after.at(name)) << name << ":\n"
                                    << kernel::testing::DiffSnapshots(snap, after.at(name));
  }

  // On SIGTERM each forwarder unregisters and exits cleanly.
  EXPECT_EQ(fwd_a->Stop(), 0) << fwd_a->Log();
  EXPECT_EQ(fwd_b->Stop(), 0) << fwd_b->Log();
  ASSERT_EQ(nsmgr_a.nse_registry->unregistered().size(), 1u);
  EXPECT_EQ(nsmgr_a.nse_registry->unregistered()[0].name(), "fwd-a");
}

}  // namespace
}  // namespace nsmcert::forwarder
