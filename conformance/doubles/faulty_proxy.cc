// nsmcert-faulty-proxy: a forwarder or an NSE that is deliberately wrong in one chosen way, to show
// that the connectivity cases catch it. It wraps a real daemon (the reference forwarder or NSE) and
// changes what that daemon answers on the wire.
//
//   nsmcert-faulty-proxy --listen URL --connect-to URL --backend PATH --work-dir DIR
//                        [--fault NAME]...
//
// It starts PATH as its backend with this process's environment (so NSM_NAME, NSM_TUNNEL_IP,
// NSM_SERVICE_NAMES... configure it as usual) except NSM_LISTEN_ON (a unix socket in DIR) and
// NSM_CONNECT_TO (this proxy's own URL). On URL it serves what the backend serves to its peers,
// networkservice.NetworkService and connection.MonitorConnection, forwarding every call to the
// backend (token metadata, deadline and cancellation one way; reply and status back). It also
// serves both registry services for the backend alone, forwarding them to the real nsmgr at
// --connect-to and rewriting the backend's URL into its own in registrations (and back in replies),
// so that peers that find the backend in the registry dial the proxy. Faults:
//   none              forward faithfully (the control: every case passes)
//   wrong-vni         a Request reply whose mechanism is VXLAN announces a VNI two above the one
//                     the backend chose and programmed (same parity, different tunnel): the peer
//                     forwarder programs another VNI than this node, so the tunnel carries nothing
//   drop-own-segment  a Request reply's path loses its last segment (an NSE's own segment)
//   unstable-id       a Request reply's last path segment gets a new id on every Request (an NSE
//                     whose connection id changes on refresh)
// It serves gRPC health (NetworkService, MonitorConnection SERVING) once the backend is healthy;
// NSMCERT_LISTEN_REPORT, when set, receives the proxy's URL, not the backend's. SIGTERM/SIGINT stop
// both. The backend dies with this process (PR_SET_PDEATHSIG).
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "conformance/doubles/proxy_support.h"
#include "connection.grpc.pb.h"
#include "grpc_health.grpc.pb.h"
#include "networkservice.grpc.pb.h"
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

constexpr std::string_view kNetworkService = "networkservice.NetworkService";
constexpr std::string_view kMonitorService = "connection.MonitorConnection";

struct Faults {
  bool wrong_vni = false;
  bool drop_own_segment = false;
  bool unstable_id = false;
};

struct Urls {
  std::string proxy;    // what peers dial
  std::string backend;  // where the backend listens
};

// ---------------------------------------------------------------------------------------------
// What peers call: forwarded to the backend, with the fault applied to Request replies.

class NetworkServiceProxy final : public networkservice::NetworkService::Service {
 public:
  NetworkServiceProxy(std::shared_ptr<grpc::Channel> backend, const Faults& faults)
      : stub_(networkservice::NetworkService::NewStub(backend)), faults_(faults) {}

  grpc::Status Request(grpc::ServerContext* context,
                       const networkservice::NetworkServiceRequest* request,
                       connection::Connection* reply) override {
    auto call = ForwardedCall(*context);
    grpc::Status status = stub_->Request(call.get(), *request, reply);
    if (status.ok()) ApplyFaults(*reply);
    return status;
  }

  grpc::Status Close(grpc::ServerContext* context, const connection::Connection* conn,
                     google::protobuf::Empty* reply) override {
    auto call = ForwardedCall(*context);
    return stub_->Close(call.get(), *conn, reply);
  }

 private:
  void ApplyFaults(connection::Connection& reply) {
    if (faults_.wrong_vni && reply.mechanism().type() == "VXLAN") {
      auto& parameters = *reply.mutable_mechanism()->mutable_parameters();
      const auto it = parameters.find("vni");
      if (it != parameters.end()) {
        const unsigned long vni = std::strtoul(it->second.c_str(), nullptr, 10);
        const unsigned long wrong = (vni + 2) & 0xFFFFFFul;
        std::cout << "fault wrong-vni: announcing VNI " << wrong << " instead of " << vni
                  << std::endl;
        it->second = std::to_string(wrong);
      }
    }
    auto& segments = *reply.mutable_path()->mutable_path_segments();
    if (faults_.unstable_id && !segments.empty()) {
      const int n = ++requests_;
      auto& last = segments[segments.size() - 1];
      last.set_id(last.id() + "-r" + std::to_string(n));
      std::cout << "fault unstable-id: segment " << last.name() << " id " << last.id() << std::endl;
    }
    if (faults_.drop_own_segment && !segments.empty()) {
      std::cout << "fault drop-own-segment: dropping segment "
                << segments[segments.size() - 1].name() << std::endl;
      segments.RemoveLast();
    }
  }

  std::unique_ptr<networkservice::NetworkService::Stub> stub_;
  const Faults faults_;
  std::atomic<int> requests_{0};
};

class MonitorProxy final : public connection::MonitorConnection::Service {
 public:
  explicit MonitorProxy(std::shared_ptr<grpc::Channel> backend)
      : stub_(connection::MonitorConnection::NewStub(backend)) {}

  grpc::Status MonitorConnections(
      grpc::ServerContext* context, const connection::MonitorScopeSelector* selector,
      grpc::ServerWriter<connection::ConnectionEvent>* writer) override {
    auto call = ForwardedCall(*context);
    auto reader = stub_->MonitorConnections(call.get(), *selector);
    return RelayStream(*call, reader, *writer,
                       [](const connection::ConnectionEvent&) { return true; });
  }

 private:
  std::unique_ptr<connection::MonitorConnection::Stub> stub_;
};

// ---------------------------------------------------------------------------------------------
// What the backend calls: its registry traffic, forwarded to the nsmgr with its URL swapped.

void ToProxyUrl(registry::NetworkServiceEndpoint& nse, const Urls& urls) {
  if (nse.url() == urls.backend) nse.set_url(urls.proxy);
}
void ToBackendUrl(registry::NetworkServiceEndpoint& nse, const Urls& urls) {
  if (nse.url() == urls.proxy) nse.set_url(urls.backend);
}

class NseRegistryProxy final : public registry::NetworkServiceEndpointRegistry::Service {
 public:
  NseRegistryProxy(std::shared_ptr<grpc::Channel> nsmgr, Urls urls)
      : stub_(registry::NetworkServiceEndpointRegistry::NewStub(nsmgr)), urls_(std::move(urls)) {}

  grpc::Status Register(grpc::ServerContext* context, const registry::NetworkServiceEndpoint* nse,
                        registry::NetworkServiceEndpoint* reply) override {
    registry::NetworkServiceEndpoint sent = *nse;
    ToProxyUrl(sent, urls_);
    grpc::Status status = ForwardUnary(
        *context, [&](grpc::ClientContext* call) { return stub_->Register(call, sent, reply); });
    ToBackendUrl(*reply, urls_);
    return status;
  }

  grpc::Status Find(grpc::ServerContext* context,
                    const registry::NetworkServiceEndpointQuery* query,
                    grpc::ServerWriter<registry::NetworkServiceEndpointResponse>* writer) override {
    registry::NetworkServiceEndpointQuery sent = *query;
    ToProxyUrl(*sent.mutable_network_service_endpoint(), urls_);
    auto call = ForwardedCall(*context);
    auto reader = stub_->Find(call.get(), sent);
    return RelayStream(*call, reader, *writer,
                       [this](registry::NetworkServiceEndpointResponse& response) {
                         ToBackendUrl(*response.mutable_network_service_endpoint(), urls_);
                         return true;
                       });
  }

  grpc::Status Unregister(grpc::ServerContext* context, const registry::NetworkServiceEndpoint* nse,
                          google::protobuf::Empty* reply) override {
    registry::NetworkServiceEndpoint sent = *nse;
    ToProxyUrl(sent, urls_);
    return ForwardUnary(
        *context, [&](grpc::ClientContext* call) { return stub_->Unregister(call, sent, reply); });
  }

 private:
  std::unique_ptr<registry::NetworkServiceEndpointRegistry::Stub> stub_;
  const Urls urls_;
};

// NOT_SERVING until the backend is healthy (the proxy already serves the backend's own
// registration calls then), SERVING after.
int Usage(std::string_view problem) {
  std::cerr << "nsmcert-faulty-proxy: " << problem
            << "\nusage: nsmcert-faulty-proxy --listen URL --connect-to URL --backend PATH "
               "--work-dir DIR [--fault none|wrong-vni|drop-own-segment|unstable-id]...\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  auto args = ParseDoubleArgs(argc, argv, {"--listen", "--connect-to", "--backend", "--work-dir"},
                              {}, {"wrong-vni", "drop-own-segment", "unstable-id"});
  if (!args.ok()) return Usage(std::string(args.status().message()));
  const std::string listen = args->values["--listen"];
  const std::string connect_to = args->values["--connect-to"];
  const std::string backend_path = args->values["--backend"];
  const std::string work_dir = args->values["--work-dir"];
  Faults faults;
  faults.wrong_vni = args->faults.contains("wrong-vni");
  faults.drop_own_segment = args->faults.contains("drop-own-segment");
  faults.unstable_id = args->faults.contains("unstable-id");
  for (const std::string& url : {listen, connect_to}) {
    if (!IsServingUrl(url)) {
      return Usage("\"" + url + "\" is neither unix:///path nor tcp://host:port");
    }
  }
  // Signals are taken by WaitForStopSignal below, on this thread; gRPC's threads inherit the mask.
  BlockStopSignals();

  Urls urls;
  urls.proxy = listen;
  urls.backend = "unix://" + work_dir + "/backend.sock";

  // The proxy serves first: the backend registers itself through it while starting.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 500);
  auto backend_channel = grpc::CreateCustomChannel(GrpcTarget(urls.backend),
                                                   grpc::InsecureChannelCredentials(), arguments);
  auto nsmgr_channel = grpc::CreateCustomChannel(GrpcTarget(connect_to),
                                                 grpc::InsecureChannelCredentials(), arguments);
  NetworkServiceProxy network_service(backend_channel, faults);
  MonitorProxy monitor(backend_channel);
  NseRegistryProxy nse_registry(nsmgr_channel, urls);
  NsRegistryForwarder ns_registry(nsmgr_channel);
  HealthService health({std::string(kNetworkService), std::string(kMonitorService),
                        "registry.NetworkServiceEndpointRegistry",
                        "registry.NetworkServiceRegistry"});
  grpc::ServerBuilder builder;
  builder.AddListeningPort(GrpcTarget(listen), grpc::InsecureServerCredentials());
  builder.RegisterService(&network_service);
  builder.RegisterService(&monitor);
  builder.RegisterService(&nse_registry);
  builder.RegisterService(&ns_registry);
  builder.RegisterService(&health);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr) {
    std::cerr << "nsmcert-faulty-proxy: cannot listen on " << listen << "\n";
    return 1;
  }

  // The backend registers itself through this proxy, so the proxy serves the registry already.
  Backend backend("nsmcert-faulty-proxy", backend_path,
                  {{"NSM_LISTEN_ON", urls.backend},
                   {"NSM_CONNECT_TO", urls.proxy},
                   {"NSMCERT_LISTEN_REPORT", ""}});
  if (backend.pid() < 0) {
    std::cerr << "nsmcert-faulty-proxy: fork: " << std::strerror(errno) << "\n";
    return 1;
  }
  if (!backend.WaitHealthy(urls.backend, std::string(kNetworkService), std::chrono::seconds(20))) {
    std::cerr << "nsmcert-faulty-proxy: the backend " << backend_path
              << " did not become healthy on " << urls.backend << "\n";
    return 1;
  }
  health.SetReady();
  std::cout << "nsmcert-faulty-proxy: serving on " << listen << " in front of " << backend_path
            << " (" << urls.backend << "), registry calls to " << connect_to;
  for (const std::string& name : args->faults) std::cout << " [fault " << name << "]";
  std::cout << std::endl;
  if (const char* report = std::getenv("NSMCERT_LISTEN_REPORT"); report != nullptr && *report) {
    std::ofstream(report) << listen << "\n";
  }

  WaitForStopSignal();
  backend.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  return 0;
}
