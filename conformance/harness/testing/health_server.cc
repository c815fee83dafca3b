// A small daemon for the harness's own tests: a gRPC server that offers only the standard health
// service (grpc.health.v1.Health/Check), so process supervision and health probes are exercised
// against a real server.
//
//   health_server --listen=<url> [--service=<name>]... [--port-file=<path>] [--not-serving]
//
// <url> is unix:///abs/path or tcp://host:port (port 0 picks a free port; its number is written to
// --port-file). Each --service is reported SERVING (NOT_SERVING with --not-serving), as is the
// server as a whole. Prints its environment variable NSMCERT_TEST_GREETING, if set, to stdout.
// Exits 0 on SIGTERM or SIGINT after a graceful shutdown.
#include <grpcpp/grpcpp.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "grpc_health.grpc.pb.h"

namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

// Check answers from a fixed table; unknown services get NOT_FOUND, as the protocol says.
class HealthService final : public grpc::health::v1::Health::Service {
 public:
  HealthService(const std::vector<std::string>& services, bool serving) {
    const auto status = serving ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING;
    statuses_[""] = status;
    for (const std::string& service : services) statuses_[service] = status;
  }

  grpc::Status Check(grpc::ServerContext*, const HealthCheckRequest* request,
                     HealthCheckResponse* response) override {
    auto it = statuses_.find(request->service());
    if (it == statuses_.end()) return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
    response->set_status(it->second);
    return grpc::Status::OK;
  }

 private:
  std::map<std::string, HealthCheckResponse::ServingStatus> statuses_;
};

int Usage() {
  std::cerr << "usage: health_server --listen=<url> [--service=<name>]... [--port-file=<path>] "
               "[--not-serving]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string listen;
  std::string port_file;
  std::vector<std::string> services;
  bool serving = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.starts_with("--listen=")) {
      listen = arg.substr(9);
    } else if (arg.starts_with("--service=")) {
      services.emplace_back(arg.substr(10));
    } else if (arg.starts_with("--port-file=")) {
      port_file = arg.substr(12);
    } else if (arg == "--not-serving") {
      serving = false;
    } else {
      return Usage();
    }
  }
  if (listen.empty()) return Usage();
  std::string address = listen;
  if (address.starts_with("tcp://")) address = address.substr(6);

  // Block the shutdown signals in every thread; one thread waits for them.
  sigset_t shutdown_signals;
  sigemptyset(&shutdown_signals);
  sigaddset(&shutdown_signals, SIGTERM);
  sigaddset(&shutdown_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &shutdown_signals, nullptr);

  HealthService health(services, serving);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::cerr << "health_server: cannot listen on " << listen << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    // Written to a temporary name and renamed, so a reader never sees a partial number.
    const std::string temporary = port_file + ".tmp";
    std::ofstream(temporary) << port << "\n";
    std::rename(temporary.c_str(), port_file.c_str());
  }
  if (const char* greeting = std::getenv("NSMCERT_TEST_GREETING")) {
    std::cout << "greeting: " << greeting << "\n";
  }
  std::cout << "health_server: listening on " << listen;
  if (port > 0 && !listen.starts_with("unix")) std::cout << " (port " << port << ")";
  std::cout << std::endl;

  std::thread waiter([&] {
    int signal = 0;
    sigwait(&shutdown_signals, &signal);
    std::cout << "health_server: signal " << signal << ", shutting down" << std::endl;
    server->Shutdown();
  });
  server->Wait();
  waiter.join();
  return 0;
}
