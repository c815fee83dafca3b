// nsmcert-faulty-registry: a registry that is deliberately wrong in one chosen way, to show that
// the registry cases catch it (a suite that cannot fail proves nothing).
//
//   nsmcert-faulty-registry --listen URL --backend PATH --work-dir DIR [--fault NAME]...
//
// It starts the registry daemon PATH (configured like upstream's cmd-registry-memory: NSM_LISTEN_ON
// set to a unix socket in DIR) as its backend, and serves both registry services on URL
// (unix:///abs/path or tcp://host:port) by forwarding every call to the backend: request, the
// per-RPC token and `path` metadata, deadline and cancellation one way; reply, status and the
// `path` response header the other way. Unless a fault changes it, it behaves exactly like the
// backend. Faults:
//   none                              forward faithfully (the control: every case passes)
//   no-deleted-events                 Find streams never carry deleted=true responses (watchers
//                                     miss unregistrations and expiries)
//   forget-initial-registration-time  a Register of a name registered before through this double
//                                     (a refresh) replies without initial_registration_time
// It serves gRPC health (both registry services SERVING) once the backend is healthy, and on
// SIGTERM/SIGINT stops itself and the backend. The backend runs in this process's process group
// and dies with it (PR_SET_PDEATHSIG), so a supervisor that kills the group kills both.
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "conformance/doubles/proxy_support.h"
#include "grpc_health.grpc.pb.h"
#include "registry.grpc.pb.h"

namespace {

using nsmcert::doubles::Backend;
using nsmcert::doubles::BlockStopSignals;
using nsmcert::doubles::ForwardedCall;
using nsmcert::doubles::ForwardUnary;
using nsmcert::doubles::GrpcTarget;
using nsmcert::doubles::HealthService;
using nsmcert::doubles::IsServingUrl;
using nsmcert::doubles::NsRegistryForwarder;
using nsmcert::doubles::ParseDoubleArgs;
using nsmcert::doubles::RelayStream;
using nsmcert::doubles::WaitForStopSignal;

constexpr std::string_view kNseService = "registry.NetworkServiceEndpointRegistry";
constexpr std::string_view kNsService = "registry.NetworkServiceRegistry";

struct Faults {
  bool no_deleted_events = false;
  bool forget_initial_registration_time = false;
};

class NseProxy final : public registry::NetworkServiceEndpointRegistry::Service {
 public:
  NseProxy(std::shared_ptr<grpc::Channel> backend, const Faults& faults)
      : stub_(registry::NetworkServiceEndpointRegistry::NewStub(backend)), faults_(faults) {}

  grpc::Status Register(grpc::ServerContext* context, const registry::NetworkServiceEndpoint* nse,
                        registry::NetworkServiceEndpoint* reply) override {
    grpc::Status status = ForwardUnary(
        *context, [&](grpc::ClientContext* call) { return stub_->Register(call, *nse, reply); });
    if (status.ok() && faults_.forget_initial_registration_time) {
      std::lock_guard lock(mu_);
      if (!seen_.insert(reply->name()).second) reply->clear_initial_registration_time();
    }
    return status;
  }

  grpc::Status Find(grpc::ServerContext* context,
                    const registry::NetworkServiceEndpointQuery* query,
                    grpc::ServerWriter<registry::NetworkServiceEndpointResponse>* writer) override {
    auto call = ForwardedCall(*context);
    auto reader = stub_->Find(call.get(), *query);
    return RelayStream(*call, reader, *writer,
                       [this](const registry::NetworkServiceEndpointResponse& response) {
                         return !(faults_.no_deleted_events && response.deleted());  // the fault
                       });
  }

  grpc::Status Unregister(grpc::ServerContext* context, const registry::NetworkServiceEndpoint* nse,
                          google::protobuf::Empty* reply) override {
    return ForwardUnary(
        *context, [&](grpc::ClientContext* call) { return stub_->Unregister(call, *nse, reply); });
  }

 private:
  std::unique_ptr<registry::NetworkServiceEndpointRegistry::Stub> stub_;
  const Faults faults_;
  std::mutex mu_;
  std::set<std::string> seen_;  // names registered through this double
};

// Health: the server and both registry services SERVING; anything else NOT_FOUND, as the
// protocol says.
int Usage(std::string_view problem) {
  std::cerr << "nsmcert-faulty-registry: " << problem
            << "\nusage: nsmcert-faulty-registry --listen URL --backend PATH --work-dir DIR "
               "[--fault none|no-deleted-events|forget-initial-registration-time]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = ParseDoubleArgs(argc, argv, {"--listen", "--backend", "--work-dir"}, {},
                              {"no-deleted-events", "forget-initial-registration-time"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  const std::string listen = args->values["--listen"];
  const std::string backend_path = args->values["--backend"];
  const std::string work_dir = args->values["--work-dir"];
  Faults faults;
  faults.no_deleted_events = args->faults.contains("no-deleted-events");
  faults.forget_initial_registration_time =
      args->faults.contains("forget-initial-registration-time");
  if (!IsServingUrl(listen)) {
    return Usage("--listen \"" + listen + "\" is neither unix:///path nor tcp://host:port");
  }
  // Signals are taken by WaitForStopSignal below, on this thread; gRPC's threads inherit the mask.
  BlockStopSignals();

  const std::string backend_url = "unix://" + work_dir + "/backend.sock";
  Backend backend("nsmcert-faulty-registry", backend_path,
                  {{"NSM_LISTEN_ON", backend_url}, {"NSM_NAME", "faulty-registry-backend"}});
  if (backend.pid() < 0) {
    std::cerr << "nsmcert-faulty-registry: fork: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (!backend.WaitHealthy(backend_url, std::string(kNseService), std::chrono::seconds(20))) {
    std::cerr << "nsmcert-faulty-registry: the backend " << backend_path
              << " did not become healthy on " << backend_url << "\n";
    return 1;
  }

  auto channel = grpc::CreateChannel(backend_url, grpc::InsecureChannelCredentials());
  NseProxy nse(channel, faults);
  // The fault applies to both registries' watches.
  NsRegistryForwarder ns(channel, [&faults](const registry::NetworkServiceResponse& response) {
    return !(faults.no_deleted_events && response.deleted());
  });
  HealthService health({std::string(kNseService), std::string(kNsService)});
  health.SetReady();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(GrpcTarget(listen), grpc::InsecureServerCredentials());
  builder.RegisterService(&nse);
  builder.RegisterService(&ns);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::cerr << "nsmcert-faulty-registry: cannot listen on " << listen << "\n";
    return 1;
  }
  std::cout << "nsmcert-faulty-registry: serving on " << listen << " in front of " << backend_path
            << (faults.no_deleted_events ? " [fault no-deleted-events]" : "")
            << (faults.forget_initial_registration_time
                    ? " [fault forget-initial-registration-time]"
                    : "")
            << std::endl;

  WaitForStopSignal();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  backend.Stop();
  return 0;
}
