// Registry control-plane benchmarks: Register (a refresh of a stored endpoint) and Find among 1 000
// and 10 000 stored endpoints, in process through the registry's chain and over a unix socket
// through gRPC. Every figure comes with a baseline measured in the same run:
// - in process: a bare std::map<name, NetworkServiceEndpoint> doing the same insert / lookup /
//   scan with a copy of each entry;
// - over the socket: an empty gRPC round trip (grpc.health.v1.Health/Check) on the same server.
// Counters: p50_us (median per operation), base_p50_us, p50_ratio (= p50 / baseline p50) and
// items_per_second (endpoints registered or returned per second). A summary table follows the
// run.
#include <benchmark/benchmark.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/server.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "grpc_health.grpc.pb.h"
#include "reference/registry/registry_server.h"
#include "reference/sdk/daemon/grpc_daemon.h"
#include "reference/sdk/tools/jwt.h"
#include "registry.grpc.pb.h"

namespace nsmcert::bench {
namespace {

using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using registry::NetworkServiceEndpointResponse;
using Clock = std::chrono::steady_clock;

constexpr int kServices = 100;  // endpoints are spread over this many network services

NetworkServiceEndpoint Endpoint(int i) {
  NetworkServiceEndpoint nse;
  nse.set_name("nse-" + std::to_string(i));
  nse.add_network_service_names("svc-" + std::to_string(i % kServices));
  (*(*nse.mutable_network_service_labels())["svc-" + std::to_string(i % kServices)]
        .mutable_labels())["app"] = "bench";
  nse.set_url("tcp://10.0.0." + std::to_string(i % 250 + 1) + ":5001");
  return nse;
}

// Per-operation latencies of one benchmark run.
class Latencies {
 public:
  void Reserve(size_t n) { ns_.reserve(n); }
  void Add(Clock::duration d) {
    ns_.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
  }
  double P50Micros() {
    if (ns_.empty()) return 0;
    auto mid = ns_.begin() + ns_.size() / 2;
    std::nth_element(ns_.begin(), mid, ns_.end());
    return *mid / 1000.0;
  }

 private:
  std::vector<int64_t> ns_;
};

// Rows of the summary printed after the run.
struct Row {
  double p50_us, base_p50_us, items_per_second;
};
std::map<std::string, Row>& Summary() {
  static auto* rows = new std::map<std::string, Row>();
  return *rows;
}

void Report(benchmark::State& state, const std::string& name, double p50, double base_p50,
            int64_t items, double seconds) {
  state.counters["p50_us"] = p50;
  state.counters["base_p50_us"] = base_p50;
  state.counters["p50_ratio"] = base_p50 > 0 ? p50 / base_p50 : 0;
  state.SetItemsProcessed(items);
  Summary()[name + "/" + std::to_string(state.range(0))] =
      Row{p50, base_p50, seconds > 0 ? items / seconds : 0};
}

// A registry holding `n` endpoints, its gRPC server on a unix socket, and client stubs.
class Fixture {
 public:
  static Fixture& For(int n) {
    static std::mutex mu;
    static std::map<int, std::unique_ptr<Fixture>> fixtures;
    std::lock_guard lock(mu);
    auto& f = fixtures[n];
    if (!f) f.reset(new Fixture(n));
    return *f;
  }

  int n() const { return n_; }
  registryd::RegistryServer& registry() { return *registry_; }
  registry::NetworkServiceEndpointRegistry::Stub& nse_stub() { return *nse_stub_; }
  grpc::health::v1::Health::Stub& health_stub() { return *health_stub_; }
  const std::map<std::string, NetworkServiceEndpoint>& baseline() const { return baseline_; }

 private:
  explicit Fixture(int n) : n_(n) {
    auto id = *sdk::tools::SpiffeId::Parse("spiffe://bench.local/registry");
    registryd::RegistryOptions options;
    options.token_signer =
        std::make_shared<sdk::tools::Es256TokenSigner>(id, *sdk::tools::EcKey::Generate());
    options.default_expiration = absl::Hours(24);  // nothing expires during a run
    registry_ = *registryd::RegistryServer::Create(std::move(options));
    for (int i = 0; i < n; ++i) {
      sdk::Context ctx;
      NetworkServiceEndpoint nse = Endpoint(i);
      auto stored = registry_->nse_chain()->Register(ctx, nse);
      if (!stored.ok()) std::abort();
      baseline_[stored->name()] = *stored;
    }
    std::string tmpl = (std::filesystem::temp_directory_path() / "nsmcert-bench-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    daemon_ = *sdk::daemon::GrpcDaemon::Create({"unix://" + dir_ + "/registry.sock"});
    registry_->RegisterServices(daemon_->builder());
    if (!daemon_->Start().ok()) std::abort();
    auto channel =
        grpc::CreateChannel("unix:" + dir_ + "/registry.sock", grpc::InsecureChannelCredentials());
    nse_stub_ = registry::NetworkServiceEndpointRegistry::NewStub(channel);
    health_stub_ = grpc::health::v1::Health::NewStub(channel);
  }

  int n_;
  std::string dir_;
  std::unique_ptr<registryd::RegistryServer> registry_;
  std::unique_ptr<sdk::daemon::GrpcDaemon> daemon_;
  std::unique_ptr<registry::NetworkServiceEndpointRegistry::Stub> nse_stub_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_stub_;
  std::map<std::string, NetworkServiceEndpoint> baseline_;
};

// The in-process baselines, `ops` operations each.
double MapInsertP50(Fixture& f, int ops) {
  std::map<std::string, NetworkServiceEndpoint> map = f.baseline();
  Latencies lat;
  lat.Reserve(ops);
  for (int i = 0; i < ops; ++i) {
    NetworkServiceEndpoint nse = Endpoint(i % f.n());
    auto start = Clock::now();
    map[nse.name()] = nse;
    lat.Add(Clock::now() - start);
  }
  return lat.P50Micros();
}

double MapLookupP50(Fixture& f, int ops) {
  Latencies lat;
  lat.Reserve(ops);
  for (int i = 0; i < ops; ++i) {
    std::string name = "nse-" + std::to_string(i % f.n());
    auto start = Clock::now();
    auto it = f.baseline().find(name);
    NetworkServiceEndpoint copy = it->second;
    benchmark::DoNotOptimize(copy);
    lat.Add(Clock::now() - start);
  }
  return lat.P50Micros();
}

double MapScanP50(Fixture& f, int ops) {
  Latencies lat;
  lat.Reserve(ops);
  for (int i = 0; i < ops; ++i) {
    std::string service = "svc-" + std::to_string(i % kServices);
    auto start = Clock::now();
    std::vector<NetworkServiceEndpoint> found;
    for (const auto& [name, nse] : f.baseline()) {
      if (nse.network_service_names(0) == service) found.push_back(nse);
    }
    benchmark::DoNotOptimize(found);
    lat.Add(Clock::now() - start);
  }
  return lat.P50Micros();
}

double EmptyRpcP50(Fixture& f, int ops) {
  Latencies lat;
  lat.Reserve(ops);
  for (int i = 0; i < ops; ++i) {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    auto start = Clock::now();
    grpc::Status s = f.health_stub().Check(&ctx, req, &resp);
    lat.Add(Clock::now() - start);
    if (!s.ok()) std::abort();
  }
  return lat.P50Micros();
}

void BM_ChainRegister(benchmark::State& state) {
  Fixture& f = Fixture::For(static_cast<int>(state.range(0)));
  Latencies lat;
  int64_t i = 0;
  auto begin = Clock::now();
  for (auto _ : state) {
    NetworkServiceEndpoint nse = Endpoint(static_cast<int>(i++ % f.n()));
    auto start = Clock::now();
    sdk::Context ctx;
    auto stored = f.registry().nse_chain()->Register(ctx, nse);
    lat.Add(Clock::now() - start);
    if (!stored.ok()) state.SkipWithError("register failed");
  }
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  Report(state, "register in process", lat.P50Micros(), MapInsertP50(f, 20000), i, seconds);
}

void BM_ChainFindByName(benchmark::State& state) {
  Fixture& f = Fixture::For(static_cast<int>(state.range(0)));
  Latencies lat;
  int64_t i = 0, found = 0;
  auto begin = Clock::now();
  for (auto _ : state) {
    NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_name("nse-" + std::to_string(i++ % f.n()));
    sdk::FunctionSink<NetworkServiceEndpointResponse> sink([&](const auto&) {
      ++found;
      return absl::OkStatus();
    });
    auto start = Clock::now();
    sdk::Context ctx;
    absl::Status s = f.registry().nse_chain()->Find(ctx, query, sink);
    lat.Add(Clock::now() - start);
    if (!s.ok()) state.SkipWithError("find failed");
  }
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  Report(state, "find by name in process", lat.P50Micros(), MapLookupP50(f, 20000), found, seconds);
}

void BM_ChainFindByService(benchmark::State& state) {
  Fixture& f = Fixture::For(static_cast<int>(state.range(0)));
  Latencies lat;
  int64_t i = 0, found = 0;
  auto begin = Clock::now();
  for (auto _ : state) {
    NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->add_network_service_names(
        "svc-" + std::to_string(i++ % kServices));
    sdk::FunctionSink<NetworkServiceEndpointResponse> sink([&](const auto&) {
      ++found;
      return absl::OkStatus();
    });
    auto start = Clock::now();
    sdk::Context ctx;
    absl::Status s = f.registry().nse_chain()->Find(ctx, query, sink);
    lat.Add(Clock::now() - start);
    if (!s.ok()) state.SkipWithError("find failed");
  }
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  Report(state, "find by service in process", lat.P50Micros(), MapScanP50(f, 200), found, seconds);
}

void BM_UnixRegister(benchmark::State& state) {
  Fixture& f = Fixture::For(static_cast<int>(state.range(0)));
  Latencies lat;
  int64_t i = 0;
  auto begin = Clock::now();
  for (auto _ : state) {
    NetworkServiceEndpoint nse = Endpoint(static_cast<int>(i++ % f.n()));
    NetworkServiceEndpoint reply;
    grpc::ClientContext ctx;
    auto start = Clock::now();
    grpc::Status s = f.nse_stub().Register(&ctx, nse, &reply);
    lat.Add(Clock::now() - start);
    if (!s.ok()) state.SkipWithError("register failed");
  }
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  Report(state, "register over unix socket", lat.P50Micros(), EmptyRpcP50(f, 2000), i, seconds);
}

void BM_UnixFindByName(benchmark::State& state) {
  Fixture& f = Fixture::For(static_cast<int>(state.range(0)));
  Latencies lat;
  int64_t i = 0, found = 0;
  auto begin = Clock::now();
  for (auto _ : state) {
    NetworkServiceEndpointQuery query;
    query.mutable_network_service_endpoint()->set_name("nse-" + std::to_string(i++ % f.n()));
    grpc::ClientContext ctx;
    auto start = Clock::now();
    auto reader = f.nse_stub().Find(&ctx, query);
    NetworkServiceEndpointResponse r;
    while (reader->Read(&r)) ++found;
    grpc::Status s = reader->Finish();
    lat.Add(Clock::now() - start);
    if (!s.ok()) state.SkipWithError("find failed");
  }
  double seconds = std::chrono::duration<double>(Clock::now() - begin).count();
  Report(state, "find by name over unix socket", lat.P50Micros(), EmptyRpcP50(f, 2000), found,
         seconds);
}

BENCHMARK(BM_ChainRegister)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ChainFindByName)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_ChainFindByService)
    ->Arg(1000)
    ->Arg(10000)
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();
BENCHMARK(BM_UnixRegister)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_UnixFindByName)->Arg(1000)->Arg(10000)->Unit(benchmark::kMicrosecond)->UseRealTime();

void PrintSummary() {
  std::printf("\n| operation | endpoints | p50 (us) | baseline p50 (us) | ratio | entries/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const auto& [key, row] : Summary()) {
    auto slash = key.rfind('/');
    std::printf("| %s | %s | %.1f | %.2f | %.1fx | %.0f |\n", key.substr(0, slash).c_str(),
                key.substr(slash + 1).c_str(), row.p50_us, row.base_p50_us,
                row.base_p50_us > 0 ? row.p50_us / row.base_p50_us : 0, row.items_per_second);
  }
  std::printf(
      "\nBaselines: in process, a std::map of the same endpoints (insert / lookup / scan, with a "
      "copy);\nover the unix socket, an empty gRPC round trip (Health/Check) on the same "
      "server.\n");
}

}  // namespace
}  // namespace nsmcert::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  nsmcert::bench::PrintSummary();
  // The fixtures (servers, registries) are left to process exit: their order of destruction
  // against gRPC's own statics is not worth managing in a benchmark.
  std::fflush(stdout);
  std::_Exit(0);
}
