#include "conformance/doubles/proxy_support.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace nsmcert::doubles {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr const char* kForwardedKeys[] = {"nsm-client-token", "nsm-client-token-expires", "path"};

sigset_t StopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  return signals;
}

}  // namespace

absl::StatusOr<DoubleArgs> ParseDoubleArgs(int argc, const char* const* argv,
                                           const std::vector<std::string>& required,
                                           const std::vector<std::string>& optional,
                                           const std::set<std::string>& known_faults) {
  auto known = [&](const std::string& option) {
    return std::find(required.begin(), required.end(), option) != required.end() ||
           std::find(optional.begin(), optional.end(), option) != optional.end();
  };
  DoubleArgs args;
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    if (option != "--fault" && !known(option)) {
      return absl::InvalidArgumentError("unknown option " + option);
    }
    if (i + 1 >= argc) return absl::InvalidArgumentError(option + " needs a value");
    const std::string value = argv[++i];
    if (option != "--fault") {
      args.values[option] = value;
    } else if (known_faults.contains(value)) {
      args.faults.insert(value);
    } else if (value != "none") {
      return absl::InvalidArgumentError("unknown fault \"" + value + "\"");
    }
  }
  std::vector<std::string> missing;
  for (const std::string& option : required) {
    if (!args.values.contains(option)) missing.push_back(option);
  }
  if (!missing.empty()) {
    // Names every required option, as a usage line would: "--a, --b and --c are required".
    std::string all;
    for (std::size_t i = 0; i < required.size(); ++i) {
      if (i > 0) all += i + 1 == required.size() ? " and " : ", ";
      all += required[i];
    }
    return absl::InvalidArgumentError(all +
                                      (required.size() > 1 ? " are required" : " is required"));
  }
  return args;
}

void BlockStopSignals() {
  const sigset_t stop_signals = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
}

int WaitForStopSignal() {
  const sigset_t stop_signals = StopSignals();
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  return signal_number;
}

std::string GrpcTarget(const std::string& url) {
  if (url.rfind("tcp://", 0) == 0) return url.substr(6);
  return url;
}

bool IsServingUrl(const std::string& url) {
  return url.rfind("unix:///", 0) == 0 || url.rfind("tcp://", 0) == 0;
}

std::unique_ptr<grpc::ClientContext> ForwardedCall(const grpc::ServerContext& server) {
  std::unique_ptr<grpc::ClientContext> call = grpc::ClientContext::FromServerContext(server);
  for (const char* key : kForwardedKeys) {
    auto range = server.client_metadata().equal_range(key);
    for (auto it = range.first; it != range.second; ++it) {
      call->AddMetadata(key, std::string(it->second.data(), it->second.size()));
    }
  }
  return call;
}

void ReturnPathHeader(const grpc::ClientContext& backend, grpc::ServerContext& server) {
  auto range = backend.GetServerInitialMetadata().equal_range("path");
  for (auto it = range.first; it != range.second; ++it) {
    server.AddInitialMetadata("path", std::string(it->second.data(), it->second.size()));
  }
}

grpc::Status NsRegistryForwarder::Register(grpc::ServerContext* context,
                                           const registry::NetworkService* ns,
                                           registry::NetworkService* reply) {
  return ForwardUnary(*context,
                      [&](grpc::ClientContext* call) { return stub_->Register(call, *ns, reply); });
}

grpc::Status NsRegistryForwarder::Find(
    grpc::ServerContext* context, const registry::NetworkServiceQuery* query,
    grpc::ServerWriter<registry::NetworkServiceResponse>* writer) {
  std::unique_ptr<grpc::ClientContext> call = ForwardedCall(*context);
  auto reader = stub_->Find(call.get(), *query);
  return RelayStream(*call, reader, *writer, [this](const registry::NetworkServiceResponse& r) {
    return keep_ == nullptr || keep_(r);
  });
}

grpc::Status NsRegistryForwarder::Unregister(grpc::ServerContext* context,
                                             const registry::NetworkService* ns,
                                             google::protobuf::Empty* reply) {
  return ForwardUnary(
      *context, [&](grpc::ClientContext* call) { return stub_->Unregister(call, *ns, reply); });
}

grpc::Status HealthService::Check(grpc::ServerContext*, const HealthCheckRequest* request,
                                  HealthCheckResponse* response) {
  const std::string& service = request->service();
  if (!service.empty() && !services_.contains(service)) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service");
  }
  response->set_status(ready_ ? HealthCheckResponse::SERVING : HealthCheckResponse::NOT_SERVING);
  return grpc::Status::OK;
}

Backend::Backend(const std::string& tool, const std::string& path,
                 const std::map<std::string, std::string>& env) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ != 0) return;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(127);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const auto& [name, value] : env) {
    if (value.empty()) {
      unsetenv(name.c_str());
    } else {
      setenv(name.c_str(), value.c_str(), 1);
    }
  }
  execl(path.c_str(), path.c_str(), static_cast<char*>(nullptr));
  std::fprintf(stderr, "%s: cannot run the backend %s: %s\n", tool.c_str(), path.c_str(),
               std::strerror(errno));
  _exit(127);
}

bool Backend::WaitHealthy(const std::string& url, const std::string& service,
                          std::chrono::seconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (pid_ > 0 && std::chrono::steady_clock::now() < until) {
    if (waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    auto stub = grpc::health::v1::Health::NewStub(
        grpc::CreateChannel(GrpcTarget(url), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    if (stub->Check(&context, request, &response).ok() &&
        response.status() == HealthCheckResponse::SERVING) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

void Backend::Signal(int signal) {
  if (pid_ <= 0) return;
  kill(pid_, signal);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void Backend::Stop() { Signal(SIGTERM); }
void Backend::Kill() { Signal(SIGKILL); }

}  // namespace nsmcert::doubles
