// The nsmcert-nsmgr binary: `--help`, configuration errors, and a daemon with its registries in
// memory (NSM_REGISTRY_URL set but empty) driven over gRPC: health of its four services, an
// endpoint registration with the local URL kept away from the store, a refused request, and a
// clean exit on SIGTERM that removes its socket.
#include <fcntl.h>
#include <grpcpp/create_channel.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpc_health.grpc.pb.h"
#include "networkservice.grpc.pb.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"
#include "registry.grpc.pb.h"

extern char** environ;

namespace nsmcert::nsmgr {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The daemon as a child process, with only the given NSM_* variables; killed and reaped on
// destruction if still running.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
          const fs::path& dir) {
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string kv = *e;
      if (!kv.starts_with("NSM_") && !kv.starts_with("NSMCERT_")) env_strings.push_back(kv);
    }
    for (const auto& [k, v] : env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = {NSMCERT_NSMGR_BINARY};
    argv_strings.insert(argv_strings.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    out_ = dir / "stdout";
    err_ = dir / "stderr";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool Alive() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }
  // The wait status once the process exited, -1 if it did not within `timeout` (real time).
  int Wait(absl::Duration timeout) {
    const absl::Time until = absl::Now() + timeout;
    while (Alive() && absl::Now() < until) absl::SleepFor(absl::Milliseconds(10));
    return exited_ ? status_ : -1;
  }
  void Signal(int sig) { kill(pid_, sig); }
  std::string out() const { return ReadFile(out_); }
  std::string err() const { return ReadFile(err_); }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  int status_ = 0;
  fs::path out_;
  fs::path err_;
};

void SetDeadline(grpc::ClientContext& ctx) {
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
}

// The per-RPC token of a caller with identity `id` (HS256: the nsmgr reads, not verifies, it).
void AddToken(grpc::ClientContext& ctx, const std::string& id) {
  const absl::Time expires = absl::Now() + absl::Minutes(10);
  sdk::tools::JwtClaims claims;
  claims.subject = id;
  claims.expires_at = expires;
  ctx.AddMetadata("nsm-client-token", *sdk::tools::SignJwtHs256(claims, "secret"));
  ctx.AddMetadata("nsm-client-token-expires", sdk::tools::FormatRfc3339Nano(expires));
}

class NsmgrDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/nsmgr-daemon-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    if (HasFailure() && daemon_) std::cerr << "daemon stderr:\n" << daemon_->err();
    daemon_.reset();
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  // Starts the daemon with its registries in memory; returns its bound URLs.
  std::vector<std::string> StartInMemory() {
    socket_ = (dir_ / "run" / "nsm.io.sock").string();
    const fs::path report = dir_ / "listen";
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{},
        std::map<std::string, std::string>{
            {"NSM_NAME", "nsmgr-test"},
            {"NSM_LISTEN_ON", "unix://" + socket_ + ",tcp://127.0.0.1:0"},
            {"NSM_REGISTRY_URL", ""},
            {"NSM_EXCLUDED_PREFIXES_PATH", (dir_ / "excluded_prefixes.yaml").string()},
            {"NSM_LOG_LEVEL", "DEBUG"},
            {"NSMCERT_LISTEN_REPORT", report.string()}},
        dir_);
    std::vector<std::string> urls;
    const absl::Time until = absl::Now() + absl::Seconds(20);
    while (urls.size() < 2 && absl::Now() < until && daemon_->Alive()) {
      std::istringstream in(ReadFile(report));
      urls.clear();
      for (std::string line; std::getline(in, line);) urls.push_back(line);
      if (urls.size() < 2) absl::SleepFor(absl::Milliseconds(20));
    }
    channel_ = grpc::CreateChannel("unix:" + socket_, grpc::InsecureChannelCredentials());
    return urls;
  }

  fs::path dir_;
  std::string socket_;
  std::unique_ptr<Process> daemon_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(NsmgrDaemonTest, HelpListsTheEnvironment) {
  Process help({"--help"}, {}, dir_);
  EXPECT_EQ(help.Wait(absl::Seconds(20)), 0);
  const std::string text = help.out();
  for (const char* var : {"NSM_NAME", "NSM_LISTEN_ON", "NSM_REGISTRY_URL", "NSM_MAX_TOKEN_LIFETIME",
                          "NSM_DIAL_TIMEOUT", "NSM_FORWARDER_NETWORK_SERVICE_NAME",
                          "NSM_EXCLUDED_PREFIXES_PATH", "NSM_LOG_LEVEL", "NODE_NAME"}) {
    EXPECT_NE(text.find(var), std::string::npos) << var;
  }
}

TEST_F(NsmgrDaemonTest, BadConfigurationNamesTheVariable) {
  Process bad({}, {{"NSM_REGISTRY_URL", "ftp://registry:5002"}}, dir_);
  const int status = bad.Wait(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  EXPECT_NE(bad.err().find("NSM_REGISTRY_URL"), std::string::npos) << bad.err();
}

TEST_F(NsmgrDaemonTest, ServesInMemoryAndStopsCleanly) {
  const std::vector<std::string> urls = StartInMemory();
  ASSERT_EQ(urls.size(), 2u) << daemon_->err();
  ASSERT_TRUE(urls[1].starts_with("tcp://127.0.0.1:")) << urls[1];
  const std::string public_url = urls[1];

  auto health = grpc::health::v1::Health::NewStub(channel_);
  for (const char* service :
       {"networkservice.NetworkService", "connection.MonitorConnection",
        "registry.NetworkServiceRegistry", "registry.NetworkServiceEndpointRegistry", ""}) {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    grpc::health::v1::HealthCheckRequest request;
    request.set_service(service);
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&ctx, request, &response).ok()) << service;
    EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING) << service;
  }

  // An endpoint registers with its local URL and gets it back...
  auto nse_registry = registry::NetworkServiceEndpointRegistry::NewStub(channel_);
  registry::NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  nse.add_network_service_names("icmp");
  nse.set_url("unix:///run/nse-1.sock");
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    AddToken(ctx, "spiffe://example.org/nse-1");
    registry::NetworkServiceEndpoint reply;
    grpc::Status status = nse_registry->Register(&ctx, nse, &reply);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(reply.url(), "unix:///run/nse-1.sock");
    EXPECT_TRUE(reply.has_expiration_time());
    EXPECT_EQ(reply.path_ids_size(), 2);
  }
  // ...and is found under the nsmgr's public URL, reported with the local one.
  {
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    registry::NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_url(public_url);
    auto reader = nse_registry->Find(&ctx, query);
    std::vector<registry::NetworkServiceEndpoint> found;
    registry::NetworkServiceEndpointResponse response;
    while (reader->Read(&response)) found.push_back(response.network_service_endpoint());
    ASSERT_TRUE(reader->Finish().ok());
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].url(), "unix:///run/nse-1.sock");
  }

  // A request for a service nobody registered is refused with a clear error.
  {
    auto network_service = networkservice::NetworkService::NewStub(channel_);
    grpc::ClientContext ctx;
    SetDeadline(ctx);
    AddToken(ctx, "spiffe://example.org/nsc");
    networkservice::NetworkServiceRequest request;
    request.mutable_connection()->set_id("nsc-0");
    request.mutable_connection()->set_network_service("icmp");
    connection::Connection reply;
    grpc::Status status = network_service->Request(&ctx, request, &reply);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(status.error_message().find("network service icmp is not found"), std::string::npos)
        << status.error_message();
  }

  daemon_->Signal(SIGTERM);
  const int status = daemon_->Wait(absl::Seconds(20));
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_FALSE(fs::exists(socket_));
}

}  // namespace
}  // namespace nsmcert::nsmgr
