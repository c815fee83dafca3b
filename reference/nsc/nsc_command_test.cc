// The nsmcert-nsc binary against an nsmgr served in this process over gRPC on a unix socket (a
// fake chain behind the real NetworkService and MonitorConnection adapters): one-shot output and
// exit codes, the long-running mode's refresh, heal on a DOWN event, waiting for an nsmgr that is
// not up yet, and closing everything on SIGTERM. The child inherits the test's network namespace.
#include <fcntl.h>
#include <grpcpp/server_builder.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "reference/kernel/netns.h"
#include "reference/sdk/daemon/testing/daemon_child.h"
#include "reference/sdk/elements/connection_monitor.h"
#include "reference/sdk/grpc/monitor_server.h"
#include "reference/sdk/grpc/network_service_server.h"
#include "reference/sdk/tools/go_time.h"

extern char** environ;

namespace nsmcert::nsc {
namespace {

using sdk::testing::ReadFile;

class TempDir : public sdk::testing::TempDir {
 public:
  TempDir() : sdk::testing::TempDir("nsmcert-nsc-test") {}
};

// The daemon binary under test as a child process (sdk/daemon/testing/daemon_child.h).
class Child : public sdk::testing::DaemonChild {
 public:
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        const std::string& out, const std::string& err)
      : DaemonChild(NSMCERT_NSC_BINARY, args, env, out, err) {}
};

bool Eventually(const std::function<bool()>& done, absl::Duration timeout = absl::Seconds(15)) {
  return sdk::testing::Eventually(done, timeout);
}

// Answers like an nsmgr: a four-segment path whose tokens expire after `lifetime`, an endpoint
// name, the client's mechanism, a fresh address pair per connection; publishes its connections on
// its monitor as the nsmgr does (with the NSC's segment, so the NSC's selector matches).
class FakeNsmgr : public sdk::NetworkServiceElement {
 public:
  explicit FakeNsmgr(std::shared_ptr<sdk::ConnectionMonitor> monitor)
      : monitor_(std::move(monitor)) {}

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    requests.push_back(request);
    tokens.push_back(ctx.IncomingValue("nsm-client-token"));
    if (fail) return absl::UnavailableError("no endpoint");
    connection::Connection& conn = *request.mutable_connection();
    auto expires = *sdk::tools::ToProtoTimestamp(absl::Now() + lifetime);
    auto* path = conn.mutable_path();
    for (const char* name : {"nsmgr", "forwarder", "nse-1"}) {
      if (path->path_segments_size() < 4) path->add_path_segments()->set_name(name);
    }
    for (auto& segment : *path->mutable_path_segments()) {
      if (segment.id().empty()) segment.set_id(segment.name() + "-" + conn.id());
      *segment.mutable_expires() = expires;
    }
    conn.set_network_service_endpoint_name("nse-1");
    if (!conn.has_mechanism()) *conn.mutable_mechanism() = request.mechanism_preferences(0);
    auto& pair = pairs[conn.id()];
    if (pair == 0) pair = ++next_pair;
    auto* ip = conn.mutable_context()->mutable_ip_context();
    ip->clear_src_ip_addrs();
    ip->clear_dst_ip_addrs();
    ip->add_src_ip_addrs(absl::StrCat("172.16.1.", 2 * pair + 1, "/32"));
    ip->add_dst_ip_addrs(absl::StrCat("172.16.1.", 2 * pair, "/32"));
    conn.set_state(connection::UP);
    connection::Connection published = conn;
    published.set_id("mgr-" + conn.id());
    monitor_->Update(published);
    return next.Request(ctx, request);
  }
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override {
    std::lock_guard lock(mu);
    closes.push_back(conn);
    connection::Connection published = conn;
    published.set_id("mgr-" + conn.id());
    monitor_->Delete(published);
    return next.Close(ctx, conn);
  }

  size_t request_count() {
    std::lock_guard lock(mu);
    return requests.size();
  }
  size_t close_count() {
    std::lock_guard lock(mu);
    return closes.size();
  }
  bool SawReselect() {
    std::lock_guard lock(mu);
    for (const auto& r : requests) {
      if (r.connection().state() == connection::RESELECT_REQUESTED) return true;
    }
    return false;
  }

  std::mutex mu;
  std::vector<networkservice::NetworkServiceRequest> requests;
  std::vector<std::string> tokens;
  std::vector<connection::Connection> closes;
  std::map<std::string, int> pairs;
  int next_pair = 49;
  bool fail = false;
  absl::Duration lifetime = absl::Minutes(10);

 private:
  std::shared_ptr<sdk::ConnectionMonitor> monitor_;
};

class NscCommandTest : public ::testing::Test {
 protected:
  void TearDown() override {
    child_.reset();
    StopNsmgr();
  }
  void StartNsmgr() {
    monitor_service_ = std::make_unique<sdk::MonitorConnectionGrpcServer>(monitor_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("unix:" + socket_, grpc::InsecureServerCredentials());
    builder.RegisterService(&network_service_);
    builder.RegisterService(monitor_service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }
  void StopNsmgr() {
    if (server_ == nullptr) return;
    monitor_service_->Stop();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    server_.reset();
  }
  void Run(std::vector<std::string> args, std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> env = {
        {"NSM_CONNECT_TO", "unix://" + socket_},
        {"NSM_NETWORK_SERVICES", "kernel://icmp-responder/nsm-1?color=red"},
        {"NSM_LIVENESS_CHECK_ENABLED", "false"},
    };
    for (auto& [k, v] : extra) env[k] = v;
    child_ = std::make_unique<Child>(args, env, out_, err_);
    ASSERT_TRUE(child_->started());
  }
  // Exit code of the child, or -1 when it did not exit normally in time.
  int ExitCode(absl::Duration timeout = absl::Seconds(30)) {
    const int status = child_->Wait(timeout);
    if (status < 0 || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
  }

  TempDir dir_;
  const std::string socket_ = dir_.path() + "/nsm.io.sock";
  const std::string out_ = dir_.path() + "/out";
  const std::string err_ = dir_.path() + "/err";
  std::shared_ptr<sdk::ConnectionMonitor> monitor_ = std::make_shared<sdk::ConnectionMonitor>();
  std::shared_ptr<FakeNsmgr> nsmgr_ = std::make_shared<FakeNsmgr>(monitor_);
  sdk::NetworkServiceGrpcServer network_service_{
      *sdk::NetworkServiceChain::Make({std::shared_ptr<sdk::NetworkServiceElement>(nsmgr_)})};
  std::unique_ptr<sdk::MonitorConnectionGrpcServer> monitor_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<Child> child_;
};

TEST_F(NscCommandTest, OneShotPrintsTheConnectionsAsJson) {
  StartNsmgr();
  Run({"--oneshot"}, {{"NSM_NETWORK_SERVICES",
                       "kernel://icmp-responder/nsm-1?color=red,"
                       "kernel://other-service"},
                      {"NSM_LABELS", "app=nsc"},
                      {"NSM_NAME", "client-a"}});
  ASSERT_EQ(ExitCode(), 0) << ReadFile(err_);
  auto json = nlohmann::json::parse(ReadFile(out_), nullptr, false);
  ASSERT_TRUE(json.is_array()) << ReadFile(out_);
  ASSERT_EQ(json.size(), 2u);
  EXPECT_EQ(json[0]["id"], "client-a-0");
  EXPECT_EQ(json[0]["networkService"], "icmp-responder");
  EXPECT_EQ(json[0]["networkServiceEndpointName"], "nse-1");
  EXPECT_EQ(json[0]["mechanism"]["parameters"]["name"], "nsm-1");
  EXPECT_EQ(json[0]["path"]["pathSegments"].size(), 4u);
  EXPECT_EQ(json[1]["id"], "client-a-1");
  EXPECT_EQ(json[1]["networkService"], "other-service");

  std::lock_guard lock(nsmgr_->mu);
  ASSERT_EQ(nsmgr_->requests.size(), 2u);
  const auto& first = nsmgr_->requests[0];
  EXPECT_EQ(first.connection().labels().at("color"), "red");
  EXPECT_EQ(first.connection().labels().at("app"), "nsc");
  EXPECT_EQ(first.connection().path().path_segments(0).name(), "client-a");
  EXPECT_EQ(first.mechanism_preferences(0).parameters().at("inodeURL"),
            kernel::NetNs::Current()->InodeUrl());
  EXPECT_FALSE(nsmgr_->tokens[0].empty()) << "a per-RPC token";
  EXPECT_TRUE(nsmgr_->closes.empty()) << "one-shot without --close leaves them";
}

TEST_F(NscCommandTest, OneShotCanCloseWhatItOpened) {
  StartNsmgr();
  Run({"--oneshot", "--close"});
  ASSERT_EQ(ExitCode(), 0) << ReadFile(err_);
  EXPECT_EQ(nsmgr_->close_count(), 1u);
  EXPECT_TRUE(monitor_->Connections().empty());
}

TEST_F(NscCommandTest, OneShotGivesUpAfterTheRequestTimeout) {
  StartNsmgr();
  nsmgr_->fail = true;
  Run({"--oneshot"}, {{"NSM_REQUEST_TIMEOUT", "1s"}});
  EXPECT_EQ(ExitCode(), 1);
  const std::string err = ReadFile(err_);
  EXPECT_NE(err.find("icmp-responder"), std::string::npos) << err;
  EXPECT_NE(err.find("no endpoint"), std::string::npos) << err;
  EXPECT_GT(nsmgr_->request_count(), 1u) << "retried";
  EXPECT_TRUE(ReadFile(out_).empty());
}

TEST_F(NscCommandTest, LongRunningRefreshesHealsAndClosesOnSigterm) {
  StartNsmgr();
  nsmgr_->lifetime = absl::Seconds(5);  // refresh after ~1 s
  Run({});
  ASSERT_TRUE(Eventually([&] { return monitor_->subscriber_count() == 1; })) << ReadFile(err_);
  ASSERT_TRUE(Eventually([&] { return nsmgr_->request_count() >= 2; })) << "a refresh";
  EXPECT_EQ(nsmgr_->close_count(), 0u);

  // The path broke below the nsmgr: DOWN on its monitor. Without a liveness check: reselect.
  auto stored = monitor_->Find("mgr-nsc-0");
  ASSERT_TRUE(stored.has_value());
  stored->set_state(connection::DOWN);
  monitor_->Update(*stored);
  ASSERT_TRUE(Eventually([&] { return nsmgr_->SawReselect(); })) << ReadFile(err_);
  EXPECT_EQ(nsmgr_->close_count(), 1u) << "the old path was closed first";

  child_->Signal(SIGTERM);
  ASSERT_EQ(ExitCode(), 0) << ReadFile(err_);
  EXPECT_EQ(nsmgr_->close_count(), 2u);
  EXPECT_TRUE(monitor_->Connections().empty());
}

TEST_F(NscCommandTest, LongRunningWaitsForTheNsmgr) {
  Run({});
  absl::SleepFor(absl::Milliseconds(500));
  StartNsmgr();
  ASSERT_TRUE(Eventually([&] { return nsmgr_->request_count() >= 1 && !nsmgr_->fail; }));
  ASSERT_TRUE(Eventually([&] { return monitor_->subscriber_count() == 1; })) << ReadFile(err_);
  child_->Signal(SIGTERM);
  EXPECT_EQ(ExitCode(), 0) << ReadFile(err_);
  EXPECT_EQ(nsmgr_->close_count(), 1u);
}

TEST_F(NscCommandTest, HelpAndBadConfiguration) {
  Run({"--help"});
  EXPECT_EQ(ExitCode(), 0);
  EXPECT_NE(ReadFile(out_).find("NSM_NETWORK_SERVICES"), std::string::npos);
  EXPECT_NE(ReadFile(out_).find("--oneshot"), std::string::npos);

  Run({}, {{"NSM_NETWORK_SERVICES", ""}});
  EXPECT_EQ(ExitCode(), 2);
  EXPECT_NE(ReadFile(err_).find("NSM_NETWORK_SERVICES"), std::string::npos) << ReadFile(err_);

  Run({}, {{"NSM_NETWORK_SERVICES", "kernel://svc/an-interface-name-too-long"}});
  EXPECT_EQ(ExitCode(), 2);
  EXPECT_NE(ReadFile(err_).find("an-interface-name-too-long"), std::string::npos) << ReadFile(err_);

  Run({"--close"});
  EXPECT_EQ(ExitCode(), 2);
  EXPECT_NE(ReadFile(err_).find("--oneshot"), std::string::npos) << ReadFile(err_);

  Run({"--bogus"});
  EXPECT_EQ(ExitCode(), 2);
}

}  // namespace
}  // namespace nsmcert::nsc
