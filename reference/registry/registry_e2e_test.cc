// End to end: starts the real nsmcert-registry binary on a unix socket in a temp dir and on a tcp
// port the kernel picks, and drives it over gRPC as an upstream client would: health, register,
// find, watch (register, refresh, unregister and expiry arrive as events, in order), unregister,
// path metadata, identities, bad input (the daemon keeps serving), and shutdown on SIGTERM.
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "grpc_health.grpc.pb.h"
#include "reference/sdk/daemon/testing/daemon_child.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/registry_path.h"
#include "registry.grpc.pb.h"

extern char** environ;

namespace nsmcert::registryd {
namespace {

using registry::NetworkService;
using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using registry::NetworkServiceEndpointRegistry;
using registry::NetworkServiceEndpointResponse;
using registry::NetworkServiceQuery;
using registry::NetworkServiceRegistry;
using registry::NetworkServiceResponse;

constexpr char kAlice[] = "spiffe://test.com/alice";
constexpr char kBob[] = "spiffe://test.com/bob";
constexpr char kRegistryId[] = "spiffe://test.com/registry";

using sdk::testing::ReadFile;

class TempDir : public sdk::testing::TempDir {
 public:
  TempDir() : sdk::testing::TempDir("nsmcert-reg-e2e") {}
};

// The daemon binary under test as a child process (sdk/daemon/testing/daemon_child.h).
class Daemon : public sdk::testing::DaemonChild {
 public:
  Daemon(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
         const std::string& out, const std::string& err)
      : DaemonChild(NSMCERT_REGISTRY_BINARY, args, env, out, err) {}
};

// Per-RPC token metadata of a caller with identity `id`.
void AddToken(grpc::ClientContext& ctx, const std::string& id) {
  absl::Time expires = absl::Now() + absl::Minutes(10);
  sdk::tools::JwtClaims claims;
  claims.subject = id;
  claims.expires_at = expires;
  ctx.AddMetadata("nsm-client-token", *sdk::tools::SignJwtHs256(claims, "secret"));
  ctx.AddMetadata("nsm-client-token-expires", sdk::tools::FormatRfc3339Nano(expires));
}

void SetDeadline(grpc::ClientContext& ctx, absl::Duration d) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + d));
}

NetworkServiceEndpoint Nse(const std::string& name, const std::string& service = "icmp",
                           const std::string& url = "tcp://10.0.0.1:5001") {
  NetworkServiceEndpoint nse;
  nse.set_name(name);
  if (!service.empty()) nse.add_network_service_names(service);
  nse.set_url(url);
  return nse;
}

absl::Time AsTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

class RegistryE2eTest : public ::testing::Test {
 protected:
  // Starts the daemon; `expire_period` is NSM_EXPIRE_PERIOD.
  void Start(const std::string& expire_period = "30s") {
    socket_ = dir_.path() + "/run/registry.sock";
    std::string report = dir_.path() + "/listen";
    daemon_ =
        std::make_unique<Daemon>(std::vector<std::string>{},
                                 std::map<std::string, std::string>{
                                     {"NSM_LISTEN_ON", "unix://" + socket_ + ",tcp://127.0.0.1:0"},
                                     {"NSM_EXPIRE_PERIOD", expire_period},
                                     {"NSM_LOG_LEVEL", "DEBUG"},
                                     {"NSM_SPIFFE_ID", kRegistryId},
                                     {"NSMCERT_LISTEN_REPORT", report}},
                                 dir_.path() + "/stdout", dir_.path() + "/stderr");
    ASSERT_TRUE(daemon_->started());
    std::vector<std::string> urls;
    absl::Time until = absl::Now() + absl::Seconds(20);
    while (urls.size() < 2 && absl::Now() < until) {
      ASSERT_TRUE(daemon_->Alive()) << ReadFile(dir_.path() + "/stderr");
      std::istringstream in(ReadFile(report));
      urls.clear();
      for (std::string line; std::getline(in, line);) urls.push_back(line);
      if (urls.size() < 2) absl::SleepFor(absl::Milliseconds(20));
    }
    ASSERT_EQ(urls.size(), 2u) << ReadFile(dir_.path() + "/stderr");
    ASSERT_EQ(urls[0], "unix://" + socket_);
    ASSERT_TRUE(urls[1].starts_with("tcp://127.0.0.1:")) << urls[1];
    unix_channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
    tcp_channel_ = grpc::CreateChannel(urls[1].substr(6), grpc::InsecureChannelCredentials());
    nse_unix_ = NetworkServiceEndpointRegistry::NewStub(unix_channel_);
    nse_tcp_ = NetworkServiceEndpointRegistry::NewStub(tcp_channel_);
    ns_tcp_ = NetworkServiceRegistry::NewStub(tcp_channel_);
  }
  void TearDown() override {
    if (HasFailure() && daemon_)
      std::cerr << "daemon stderr:\n" << ReadFile(dir_.path() + "/stderr");
  }

  grpc::Status Register(NetworkServiceEndpoint nse, const std::string& id = kAlice,
                        NetworkServiceEndpoint* out = nullptr,
                        absl::Duration deadline = absl::Seconds(5)) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, deadline);
    if (!id.empty()) AddToken(ctx, id);
    NetworkServiceEndpoint reply;
    grpc::Status s = nse_unix_->Register(&ctx, nse, &reply);
    if (out) *out = reply;
    return s;
  }
  grpc::Status Unregister(NetworkServiceEndpoint nse, const std::string& id = kAlice) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(5));
    if (!id.empty()) AddToken(ctx, id);
    google::protobuf::Empty reply;
    return nse_unix_->Unregister(&ctx, nse, &reply);
  }
  // A non-watch Find over tcp: the names found, or the error.
  std::vector<std::string> Find(NetworkServiceEndpoint query_nse, grpc::Status* status = nullptr) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(5));
    NetworkServiceEndpointQuery query;
    *query.mutable_network_service_endpoint() = std::move(query_nse);
    auto reader = nse_tcp_->Find(&ctx, query);
    std::vector<std::string> names;
    NetworkServiceEndpointResponse r;
    while (reader->Read(&r)) names.push_back(r.network_service_endpoint().name());
    grpc::Status s = reader->Finish();
    if (status) *status = s;
    return names;
  }
  // The daemon answers a plain Find, i.e. it is still serving.
  void ExpectServing() {
    grpc::Status s;
    Find(NetworkServiceEndpoint(), &s);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(daemon_->Alive());
  }

  TempDir dir_;
  std::string socket_;
  std::unique_ptr<Daemon> daemon_;
  std::shared_ptr<grpc::Channel> unix_channel_;
  std::shared_ptr<grpc::Channel> tcp_channel_;
  std::unique_ptr<NetworkServiceEndpointRegistry::Stub> nse_unix_;
  std::unique_ptr<NetworkServiceEndpointRegistry::Stub> nse_tcp_;
  std::unique_ptr<NetworkServiceRegistry::Stub> ns_tcp_;
};

TEST_F(RegistryE2eTest, HealthReportsBothRegistryServicesServing) {
  Start();
  auto health = grpc::health::v1::Health::NewStub(unix_channel_);
  for (const char* service :
       {"registry.NetworkServiceRegistry", "registry.NetworkServiceEndpointRegistry", ""}) {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(5));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, req, &resp).ok()) << service;
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }
}

TEST_F(RegistryE2eTest, RegisterFindUnregisterWithPathAndTimes) {
  Start("30s");
  absl::Time before = absl::Now();
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(5));
  AddToken(ctx, kAlice);
  NetworkServiceEndpoint reply;
  ASSERT_TRUE(nse_unix_->Register(&ctx, Nse("nse-1"), &reply).ok());
  EXPECT_EQ(reply.name(), "nse-1");
  EXPECT_EQ(reply.url(), "tcp://10.0.0.1:5001");
  absl::Time expires = AsTime(reply.expiration_time());
  EXPECT_GE(expires, before + absl::Seconds(29));
  EXPECT_LE(expires, absl::Now() + absl::Seconds(30));
  EXPECT_TRUE(reply.has_initial_registration_time());
  ASSERT_EQ(reply.path_ids_size(), 2);
  EXPECT_EQ(reply.path_ids(0), kAlice);
  EXPECT_EQ(reply.path_ids(1), kRegistryId);

  // The updated path comes back in the `path` response header.
  auto header = ctx.GetServerInitialMetadata().find("path");
  ASSERT_NE(header, ctx.GetServerInitialMetadata().end());
  auto path =
      sdk::tools::ParseRegistryPathJson(std::string(header->second.data(), header->second.size()));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(path->index, 0u);
  ASSERT_EQ(path->tokens.size(), 2u);
  EXPECT_EQ(sdk::tools::JwtSubjectSpiffeId(path->tokens[1])->ToString(), kRegistryId);

  // A refresh keeps the initial registration time.
  NetworkServiceEndpoint refresh = reply;
  refresh.clear_expiration_time();
  NetworkServiceEndpoint refreshed;
  ASSERT_TRUE(Register(refresh, kAlice, &refreshed).ok());
  EXPECT_EQ(refreshed.initial_registration_time().seconds(),
            reply.initial_registration_time().seconds());
  EXPECT_EQ(refreshed.initial_registration_time().nanos(),
            reply.initial_registration_time().nanos());

  ASSERT_TRUE(Register(Nse("nse-2", "other", "unix:///var/run/nse-2.sock")).ok());
  EXPECT_EQ(Find(NetworkServiceEndpoint()), (std::vector<std::string>{"nse-1", "nse-2"}));
  EXPECT_EQ(Find(Nse("", "icmp", "")), std::vector<std::string>{"nse-1"});
  EXPECT_EQ(Find(Nse("", "", "nse-2.sock")).size(), 1u);

  ASSERT_TRUE(Unregister(Nse("nse-1")).ok());
  EXPECT_EQ(Find(Nse("nse-1", "", "")), std::vector<std::string>{});
  EXPECT_EQ(Find(NetworkServiceEndpoint()), std::vector<std::string>{"nse-2"});
}

TEST_F(RegistryE2eTest, WatchReceivesRegisterRefreshUnregisterAndExpiryInOrder) {
  Start("30s");
  ASSERT_TRUE(Register(Nse("nse-a", "watched")).ok());
  grpc::ClientContext watch_ctx;
  SetDeadline(watch_ctx, absl::Seconds(30));
  NetworkServiceEndpointQuery query;
  query.mutable_network_service_endpoint()->add_network_service_names("watched");
  query.set_watch(true);
  auto reader = nse_tcp_->Find(&watch_ctx, query);
  // The current matches come first; once they arrived the watch is in place.
  NetworkServiceEndpointResponse r;
  ASSERT_TRUE(reader->Read(&r));
  EXPECT_EQ(r.network_service_endpoint().name(), "nse-a");
  EXPECT_FALSE(r.deleted());

  NetworkServiceEndpoint first;
  ASSERT_TRUE(Register(Nse("nse-w", "watched"), kAlice, &first).ok());
  ASSERT_TRUE(Register(Nse("unrelated", "other")).ok());
  NetworkServiceEndpoint refresh = first;
  refresh.clear_expiration_time();
  refresh.set_url("tcp://10.0.0.9:5001");
  ASSERT_TRUE(Register(refresh).ok());
  ASSERT_TRUE(Unregister(Nse("nse-w", "watched")).ok());
  // Expiry: the caller's expiration_time is honoured, less the time its request had left.
  NetworkServiceEndpoint short_lived = Nse("nse-x", "watched");
  short_lived.mutable_expiration_time()->set_seconds(absl::ToUnixSeconds(absl::Now()) + 3);
  ASSERT_TRUE(Register(short_lived, kAlice, nullptr, absl::Seconds(1)).ok());

  std::vector<std::string> events;
  std::vector<NetworkServiceEndpointResponse> responses;
  while (events.size() < 5 && reader->Read(&r)) {
    events.push_back((r.deleted() ? "-" : "") + r.network_service_endpoint().name());
    responses.push_back(r);
  }
  EXPECT_EQ(events, (std::vector<std::string>{"nse-w", "nse-w", "-nse-w", "nse-x", "-nse-x"}));
  ASSERT_EQ(responses.size(), 5u);
  EXPECT_EQ(responses[1].network_service_endpoint().url(), "tcp://10.0.0.9:5001");
  EXPECT_EQ(responses[2].network_service_endpoint().url(), "tcp://10.0.0.9:5001");
  EXPECT_EQ(Find(Nse("nse-x", "", "")), std::vector<std::string>{});

  // The watch goes on until the client cancels it.
  watch_ctx.TryCancel();
  while (reader->Read(&r)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ExpectServing();
}

TEST_F(RegistryE2eTest, NetworkServicesDefaultToIpAndAreFoundByPayload) {
  Start();
  NetworkService ns;
  ns.set_name("icmp-responder");
  NetworkService reply;
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(5));
    ASSERT_TRUE(ns_tcp_->Register(&ctx, ns, &reply).ok());
  }
  EXPECT_EQ(reply.payload(), "IP");
  NetworkService l2;
  l2.set_name("l2");
  l2.set_payload("ETHERNET");
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx, absl::Seconds(5));
    ASSERT_TRUE(ns_tcp_->Register(&ctx, l2, &reply).ok());
  }
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(5));
  NetworkServiceQuery query;
  query.mutable_network_service()->set_payload("IP");
  auto reader = ns_tcp_->Find(&ctx, query);
  std::vector<std::string> names;
  NetworkServiceResponse r;
  while (reader->Read(&r)) names.push_back(r.network_service().name());
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(names, std::vector<std::string>{"icmp-responder"});

  grpc::ClientContext unregister;
  SetDeadline(unregister, absl::Seconds(5));
  google::protobuf::Empty empty;
  EXPECT_TRUE(ns_tcp_->Unregister(&unregister, ns, &empty).ok());
}

TEST_F(RegistryE2eTest, BadInputIsRefusedNamingTheFieldAndTheDaemonKeepsServing) {
  Start();
  struct Case {
    NetworkServiceEndpoint nse;
    std::string field;
  };
  std::vector<Case> cases;
  cases.push_back({Nse(""), "network_service_endpoint.name"});
  cases.push_back({Nse(std::string(300, 'n')), "network_service_endpoint.name"});
  cases.push_back({Nse("nse", "icmp", "http://not-nsm:80"), "network_service_endpoint.url"});
  cases.push_back({Nse("nse", "icmp", "unix://relative.sock"), "network_service_endpoint.url"});
  NetworkServiceEndpoint labels = Nse("nse");
  auto& map = *(*labels.mutable_network_service_labels())["icmp"].mutable_labels();
  for (int i = 0; i < 100; ++i) map["k" + std::to_string(i)] = "v";
  cases.push_back({labels, "network_service_endpoint.network_service_labels"});
  NetworkServiceEndpoint huge_label = Nse("nse");
  (*(*huge_label.mutable_network_service_labels())["icmp"].mutable_labels())["k"] =
      std::string(100'000, 'v');
  cases.push_back({huge_label, "network_service_endpoint.network_service_labels"});
  for (const Case& c : cases) {
    grpc::Status s = Register(c.nse);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.field;
    EXPECT_NE(s.error_message().find(c.field), std::string::npos) << s.error_message();
    ExpectServing();
  }

  // A malformed path in metadata.
  grpc::ClientContext ctx;
  SetDeadline(ctx, absl::Seconds(5));
  ctx.AddMetadata("path", "{\"Index\":\"x\"");
  NetworkServiceEndpoint reply;
  grpc::Status s = nse_unix_->Register(&ctx, Nse("nse"), &reply);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("path"), std::string::npos) << s.error_message();

  // A bad query, an unnamed unregister, an unnamed network service.
  grpc::Status find_status;
  Find(Nse("bad name"), &find_status);
  EXPECT_EQ(find_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Unregister(NetworkServiceEndpoint()).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext ns_ctx;
  SetDeadline(ns_ctx, absl::Seconds(5));
  NetworkService unnamed;
  NetworkService ns_reply;
  grpc::Status ns_status = ns_tcp_->Register(&ns_ctx, unnamed, &ns_reply);
  EXPECT_EQ(ns_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(ns_status.error_message().find("network_service.name"), std::string::npos);

  // Nothing of it was stored, and good input still works.
  EXPECT_EQ(Find(NetworkServiceEndpoint()), std::vector<std::string>{});
  EXPECT_TRUE(Register(Nse("good")).ok());
  ExpectServing();
}

TEST_F(RegistryE2eTest, ANameRegisteredByOneIdentityIsRefusedToAnother) {
  Start();
  ASSERT_TRUE(Register(Nse("nse-1"), kAlice).ok());
  grpc::Status stolen = Register(Nse("nse-1", "icmp", "tcp://6.6.6.6:1"), kBob);
  EXPECT_EQ(stolen.error_code(), grpc::StatusCode::PERMISSION_DENIED) << stolen.error_message();
  EXPECT_EQ(Unregister(Nse("nse-1"), kBob).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(Register(Nse("nse-1"), kAlice).ok());
  EXPECT_EQ(Find(Nse("nse-1", "", "6.6.6.6")), std::vector<std::string>{});
  ExpectServing();
}

TEST_F(RegistryE2eTest, SigtermStopsCleanlyEvenWithAnOpenWatchAndRemovesTheSocket) {
  Start();
  grpc::ClientContext watch_ctx;
  NetworkServiceEndpointQuery query;
  query.set_watch(true);
  auto reader = nse_tcp_->Find(&watch_ctx, query);
  ASSERT_TRUE(Register(Nse("nse-1")).ok());
  NetworkServiceEndpointResponse r;
  ASSERT_TRUE(reader->Read(&r));  // the watch is being served

  ASSERT_TRUE(std::filesystem::exists(socket_));
  daemon_->Signal(SIGTERM);
  int status = daemon_->Wait(absl::Seconds(10));
  ASSERT_NE(status, -1) << "the daemon did not exit";
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(std::filesystem::exists(socket_));
  while (reader->Read(&r)) {
  }
  EXPECT_FALSE(reader->Finish().ok());
}

TEST(RegistryBinary, HelpListsTheEnvironmentAndBadConfigurationFails) {
  TempDir dir;
  {
    Daemon help({"--help"}, {}, dir.path() + "/out", dir.path() + "/err");
    ASSERT_TRUE(help.started());
    int status = help.Wait(absl::Seconds(10));
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    std::string text = ReadFile(dir.path() + "/out");
    for (const char* var : {"NSM_LISTEN_ON", "NSM_EXPIRE_PERIOD", "NSM_MAX_TOKEN_LIFETIME",
                            "NSM_LOG_LEVEL", "NSM_NAME"}) {
      EXPECT_NE(text.find(var), std::string::npos) << var;
    }
  }
  {
    Daemon bad({}, {{"NSM_EXPIRE_PERIOD", "soon"}}, dir.path() + "/out", dir.path() + "/err");
    int status = bad.Wait(absl::Seconds(10));
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(ReadFile(dir.path() + "/err").find("NSM_EXPIRE_PERIOD"), std::string::npos);
  }
  {
    Daemon bad({}, {{"NSM_LISTEN_ON", "http://nowhere:1"}}, dir.path() + "/out",
               dir.path() + "/err");
    int status = bad.Wait(absl::Seconds(10));
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(ReadFile(dir.path() + "/err").find("http://nowhere:1"), std::string::npos);
  }
}

}  // namespace
}  // namespace nsmcert::registryd
