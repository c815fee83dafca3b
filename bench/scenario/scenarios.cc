#include "bench/scenario/scenarios.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/datapath/path.h"
#include "bench/datapath/traffic_gen.h"
#include "bench/scenario/measure.h"
#include "grpc_health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "reference/nsc/client.h"
#include "reference/nsc/liveness.h"
#include "reference/nsc/requests.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/grpc/network_service_client.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/spiffe_id.h"

namespace nsmcert::bench::scenario {
namespace {

using Json = nlohmann::json;

std::int64_t NowNs() { return static_cast<std::int64_t>(MonotonicNs()); }

// The tail of the client chain, timestamping every Request the nsmgr answered (the client's own
// and those its heal sends), keyed by the client's path segment id.
class RequestRecorder final : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override {
    const std::string key = request.connection().path().path_segments_size() > 0
                                ? request.connection().path().path_segments(0).id()
                                : request.connection().id();
    auto conn = next.Request(ctx, request);
    if (conn.ok()) {
      std::lock_guard lock(mu_);
      times_[key].push_back(NowNs());
      last_[key] = *conn;
    }
    return conn;
  }

  std::vector<std::int64_t> Times(const std::string& key) {
    std::lock_guard lock(mu_);
    return times_[key];
  }
  std::optional<connection::Connection> Last(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = last_.find(key);
    if (it == last_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::vector<std::int64_t>> times_;
  std::map<std::string, connection::Connection> last_;
};

std::string KeyOf(const connection::Connection& conn) {
  return conn.path().path_segments_size() > 0 ? conn.path().path_segments(0).id() : conn.id();
}

// An in-process NSC whose kernel interfaces go to the client workload's namespace.
struct BenchClient {
  std::shared_ptr<RequestRecorder> recorder;
  std::unique_ptr<kernel::NetNsThread> liveness_thread;  // ICMP checks from the client's netns
  std::unique_ptr<nsc::NscClient> client;                // destroyed first

  ~BenchClient() {
    if (client) (void)client->CloseAll(absl::Seconds(30));
    client.reset();
  }
};

absl::StatusOr<std::unique_ptr<BenchClient>> MakeClient(BenchDomain& bench, const std::string& name,
                                                        bool heal, std::string connect_to = "") {
  auto out = std::make_unique<BenchClient>();
  auto id = sdk::tools::SpiffeId::Parse(absl::StrCat("spiffe://nsmcert.local/", name));
  if (!id.ok()) return id.status();
  auto key = sdk::tools::EcKey::Generate();
  if (!key.ok()) return key.status();
  auto channels = std::make_shared<sdk::ChannelPool>();
  out->recorder = std::make_shared<RequestRecorder>();
  auto connect = sdk::NetworkServiceChain::Make(
      {out->recorder, std::make_shared<sdk::NetworkServiceGrpcClient>(channels)});
  if (!connect.ok()) return connect.status();

  nsc::NscOptions options;
  options.name = name;
  options.connect_to = connect_to.empty() ? bench.client_nsmgr_url() : std::move(connect_to);
  options.signer = std::make_shared<sdk::tools::Es256TokenSigner>(*id, *key, absl::Minutes(10));
  options.netns_url = bench.client_ns().InodeUrl();
  options.heal = heal;
  options.channels = channels;
  options.connect = *connect;
  if (heal) {
    auto thread = kernel::NetNsThread::Start(bench.client_ns());
    if (!thread.ok()) return thread.status();
    out->liveness_thread = std::move(*thread);
    kernel::NetNsThread* in_ns = out->liveness_thread.get();
    // The daemon's defaults (NSM_LIVENESS_CHECK_INTERVAL 200ms, _TIMEOUT 1s).
    options.liveness = [in_ns](const connection::Connection& conn) {
      return in_ns->Run([&conn] { return nsc::CheckLiveness(conn, nsc::LivenessOptions()); });
    };
    options.liveness_interval = absl::Milliseconds(200);
  }
  auto client = nsc::NscClient::Create(std::move(options));
  if (!client.ok()) return client.status();
  out->client = std::move(*client);
  return out;
}

absl::StatusOr<networkservice::NetworkServiceRequest> RequestFor(const std::string& service) {
  auto requests = nsc::BuildRequests("bench", {absl::StrCat("kernel://", service)}, {});
  if (!requests.ok()) return requests.status();
  return (*requests)[0];
}

struct Round {
  std::vector<std::int64_t> latencies_ns;
  int failures = 0;
  std::string first_error;
  std::int64_t wall_ns = 0;
  std::vector<connection::Connection> connections;
};

// Runs `count` calls of `op(i)` on `concurrency` threads; op returns OK or an error.
template <class Op>
Round RunConcurrently(int count, int concurrency, Op op) {
  Round round;
  std::mutex mu;
  std::atomic<int> next{0};
  const std::int64_t start = NowNs();
  std::vector<std::thread> workers;
  const int threads = std::max(1, std::min(concurrency, count));
  workers.reserve(static_cast<size_t>(threads));
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < count; i = next++) {
        const std::int64_t t0 = NowNs();
        absl::Status status = op(i, mu, round);
        const std::int64_t t1 = NowNs();
        std::lock_guard lock(mu);
        if (status.ok()) {
          round.latencies_ns.push_back(t1 - t0);
        } else {
          if (round.failures++ == 0) round.first_error = status.ToString();
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  round.wall_ns = NowNs() - start;
  return round;
}

Round RequestRound(BenchClient& client, const networkservice::NetworkServiceRequest& tmpl,
                   const std::string& prefix, int count, int concurrency, absl::Duration timeout) {
  return RunConcurrently(count, concurrency, [&](int i, std::mutex& mu, Round& round) {
    networkservice::NetworkServiceRequest request = tmpl;
    request.mutable_connection()->set_id(absl::StrCat(prefix, "-", i));
    auto conn = client.client->Request(std::move(request), timeout);
    if (!conn.ok()) return conn.status();
    std::lock_guard lock(mu);
    round.connections.push_back(*conn);
    return absl::OkStatus();
  });
}

Round CloseRound(BenchClient& client, const std::vector<connection::Connection>& conns,
                 int concurrency, absl::Duration timeout) {
  return RunConcurrently(static_cast<int>(conns.size()), concurrency,
                         [&](int i, std::mutex&, Round&) {
                           return client.client->Close(conns[static_cast<size_t>(i)], timeout);
                         });
}

Round HealthRound(const std::string& url, int count, int concurrency) {
  auto channel = grpc::CreateChannel(url, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  return RunConcurrently(count, concurrency, [&](int, std::mutex&, Round&) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::health::v1::HealthCheckRequest req;
    grpc::health::v1::HealthCheckResponse resp;
    grpc::Status s = stub->Check(&ctx, req, &resp);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return absl::OkStatus();
  });
}

Json RoundJson(Round& round) {
  Json out = ToJson(SummarizeMs(round.latencies_ns));
  out["failures"] = round.failures;
  if (!round.first_error.empty()) out["first_error"] = round.first_error;
  out["wall_ms"] = static_cast<double>(round.wall_ns) / 1e6;
  out["per_second"] = PerSecond(round.latencies_ns.size(), round.wall_ns);
  return out;
}

struct Shape {
  std::string name;
  std::string service;
};
const std::vector<Shape>& Shapes() {
  static const std::vector<Shape> shapes = {{"local", kLocalService}, {"remote", kRemoteService}};
  return shapes;
}

// Processes whose memory a shape's connections grow: (label, node or workload, executable).
struct Watched {
  std::string label;
  std::string element;
  std::string exe;
};
std::vector<Watched> WatchedFor(const std::string& shape) {
  std::vector<Watched> out = {{"nsmgr-a", "node-a", "nsmcert-nsmgr"},
                              {"forwarder-a", "node-a", "nsmcert-forwarder"}};
  if (shape == "local") {
    out.push_back({"nse-a", "nse-a", "nsmcert-nse"});
  } else {
    out.push_back({"nsmgr-b", "node-b", "nsmcert-nsmgr"});
    out.push_back({"forwarder-b", "node-b", "nsmcert-forwarder"});
    out.push_back({"nse-b", "nse-b", "nsmcert-nse"});
  }
  return out;
}

absl::StatusOr<pid_t> PidOf(BenchDomain& bench, const Watched& w) {
  auto ns = kernel::NetNs::FromPath(bench.domain().NetnsPath(w.element));
  if (!ns.ok()) return ns.status();
  std::vector<pid_t> pids = FindPids(ns->ino(), w.exe);
  if (pids.size() != 1) {
    return absl::NotFoundError(
        absl::StrCat(pids.size(), " processes ", w.exe, " in the namespace of ", w.element));
  }
  return pids[0];
}

conformance::RunningRole* RoleToKill(BenchDomain& bench, const std::string& role) {
  conformance::Domain& d = bench.domain();
  if (role == "nse") {
    conformance::DomainEndpoint* e = d.endpoint("nse-b");
    return e == nullptr ? nullptr : e->role.get();
  }
  if (role == "local-forwarder") return d.forwarder("node-a");
  if (role == "remote-forwarder") return d.forwarder("node-b");
  if (role == "remote-nsmgr") return d.nsmgr("node-b");
  if (role == "local-nsmgr") return d.nsmgr("node-a");
  if (role == "registry") return &d.registry();
  return nullptr;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BenchDomain>> BenchDomain::Start(const BenchDomainOptions& options) {
  std::unique_ptr<BenchDomain> bench(new BenchDomain());
  conformance::StandaloneCaseContext::Options context_options;
  context_options.id = "BENCH-SCENARIO";
  context_options.bin_dir = options.bin_dir;
  context_options.timeout = absl::Hours(4);
  auto context = conformance::StandaloneCaseContext::Create(context_options);
  if (!context.ok()) return context.status();
  bench->context_ = std::move(*context);

  auto spec = harness::LoadTopologyFile(conformance::DefaultTopologyFile().string());
  if (!spec.ok()) return spec.status();
  bool added = false;
  for (harness::NodeSpec& node : spec->nodes) {
    if (node.name != "node-a") continue;
    harness::WorkloadSpec local_nse;
    local_nse.name = "nse-a";
    local_nse.role = harness::WorkloadRole::kNse;
    node.workloads.push_back(local_nse);
    added = true;
  }
  if (!added) return absl::FailedPreconditionError("the default topology has no node-a");

  conformance::DomainOptions domain_options;
  domain_options.topology = *spec;
  domain_options.log_level = options.log_level;
  auto domain = conformance::Domain::Start(bench->context_->context(), domain_options);
  if (!domain.ok()) return domain.status();
  bench->domain_ = std::move(*domain);

  // Address pools large enough for a thousand point-to-point connections each.
  const std::vector<std::tuple<std::string, std::string, std::string>> endpoints = {
      {"nse-a", kLocalService, "10.210.0.0/16"}, {"nse-b", kRemoteService, "10.211.0.0/16"}};
  for (const auto& [workload, service, cidr] : endpoints) {
    conformance::EndpointOptions e;
    e.workload = workload;
    e.services = {service};
    e.cidr = cidr;
    auto started = bench->domain_->StartEndpoint(e);
    if (!started.ok()) return started.status();
  }
  for (const auto& [workload, service, cidr] : endpoints) {
    if (absl::Status s = bench->domain_->WaitForEndpoint(workload, absl::Seconds(30)); !s.ok()) {
      return s;
    }
  }
  auto ns = kernel::NetNs::FromPath(bench->domain_->NetnsPath(kClientWorkload));
  if (!ns.ok()) return ns.status();
  bench->client_ns_ = std::move(*ns);
  return bench;
}

BenchDomain::~BenchDomain() {
  if (domain_) (void)domain_->Stop();
  domain_.reset();
  context_.reset();
}

std::string BenchDomain::client_nsmgr_url() {
  conformance::DomainNode* node = domain_->node("node-a");
  return node == nullptr ? "" : node->nsmgr_url;
}

Json MeasureSetup(BenchDomain& bench, const SetupConfig& config, std::ostream& log) {
  Json out = Json::array();
  auto client = MakeClient(bench, "bench-setup", /*heal=*/false);
  if (!client.ok()) return Json{{"error", client.status().ToString()}};
  // Warm-up per shape: channels, the forwarders' first-use work and the endpoints' first
  // lookups are not part of any round.
  std::map<std::string, networkservice::NetworkServiceRequest> templates;
  for (const Shape& shape : Shapes()) {
    auto tmpl = RequestFor(shape.service);
    if (!tmpl.ok()) return Json{{"error", tmpl.status().ToString()}};
    templates[shape.name] = *tmpl;
    Round warm = RequestRound(**client, *tmpl, absl::StrCat("warm-", shape.name), 2, 1,
                              config.request_timeout);
    CloseRound(**client, warm.connections, 1, config.request_timeout);
  }
  // Concurrency outside, shape inside: the low-concurrency rounds of both shapes run before
  // any heavy round can leave the machine busy.
  int round_index = 0;
  for (int concurrency : config.concurrency) {
    for (const Shape& shape : Shapes()) {
      const int count = std::max(config.connections, concurrency);
      const std::string prefix = absl::StrCat("r", round_index++, "-", shape.name);
      Round requests = RequestRound(**client, templates[shape.name], prefix, count, concurrency,
                                    config.request_timeout);
      Round closes =
          CloseRound(**client, requests.connections, concurrency, config.request_timeout);
      // Whatever a failed Request left behind must be gone before the next round.
      absl::Status drained = bench.domain().WaitForNoConnections("node-a", absl::Seconds(60));
      Round baseline = HealthRound(bench.client_nsmgr_url(), count, concurrency);
      Json round = {{"shape", shape.name}, {"concurrency", concurrency}, {"connections", count}};
      round["request"] = RoundJson(requests);
      round["close"] = RoundJson(closes);
      round["baseline_health_check"] = RoundJson(baseline);
      if (!drained.ok()) round["drain_error"] = drained.ToString();
      const double base_p50 = round["baseline_health_check"]["p50_ms"].get<double>();
      const double p50 = round["request"]["p50_ms"].get<double>();
      round["p50_ratio"] = base_p50 > 0 ? Json(p50 / base_p50) : Json(nullptr);
      log << "setup " << shape.name << " c=" << concurrency << " n=" << count << ": p50 " << p50
          << " ms p99 " << round["request"]["p99_ms"].get<double>() << " ms, "
          << round["request"]["per_second"].get<double>() << " conn/s, failures "
          << requests.failures << (requests.failures ? " (" + requests.first_error + ")" : "")
          << "; health check p50 " << base_p50 << " ms"
          << (drained.ok() ? "" : "; not drained: " + drained.ToString()) << std::endl;
      out.push_back(round);
    }
  }
  return out;
}

Json MeasureMemory(BenchDomain& bench, const MemoryConfig& config, std::ostream& log) {
  Json out = Json::array();
  auto client = MakeClient(bench, "bench-memory", /*heal=*/false);
  if (!client.ok()) return Json{{"error", client.status().ToString()}};
  for (const Shape& shape : Shapes()) {
    auto tmpl = RequestFor(shape.service);
    if (!tmpl.ok()) return Json{{"error", tmpl.status().ToString()}};
    Round warm = RequestRound(**client, *tmpl, absl::StrCat("mw-", shape.name), config.warmup,
                              config.concurrency, absl::Seconds(60));
    CloseRound(**client, warm.connections, config.concurrency, absl::Seconds(60));
    std::vector<Watched> watched = WatchedFor(shape.name);
    std::vector<MemoryGrowth> growth;
    std::vector<pid_t> pids;
    Json errors = Json::array();
    for (const Watched& w : watched) {
      MemoryGrowth g;
      g.process = w.label;
      auto pid = PidOf(bench, w);
      if (pid.ok()) {
        auto rss = ReadRssBytes(*pid);
        if (rss.ok()) g.before_bytes = *rss;
      } else {
        errors.push_back(pid.status().ToString());
      }
      pids.push_back(pid.ok() ? *pid : 0);
      growth.push_back(g);
    }
    Round made = RequestRound(**client, *tmpl, absl::StrCat("m-", shape.name), config.connections,
                              config.concurrency, absl::Seconds(60));
    absl::SleepFor(absl::Milliseconds(500));  // let replies and logs settle
    std::vector<std::int64_t> after_close(watched.size(), 0);
    for (size_t i = 0; i < watched.size(); ++i) {
      growth[i].connections = made.connections.size();
      if (pids[i] == 0) continue;
      if (auto rss = ReadRssBytes(pids[i]); rss.ok()) growth[i].after_bytes = *rss;
    }
    CloseRound(**client, made.connections, config.concurrency, absl::Seconds(60));
    absl::SleepFor(absl::Milliseconds(500));
    for (size_t i = 0; i < watched.size(); ++i) {
      if (pids[i] == 0) continue;
      if (auto rss = ReadRssBytes(pids[i]); rss.ok()) after_close[i] = *rss;
    }
    Json processes = Json::array();
    for (size_t i = 0; i < growth.size(); ++i) {
      Json p = ToJson(growth[i]);
      p["after_close_bytes"] = after_close[i];
      processes.push_back(p);
      log << "memory " << shape.name << " " << growth[i].process << ": "
          << growth[i].BytesPerConnection() / 1024.0 << " KiB per connection ("
          << made.connections.size() << " connections)" << std::endl;
    }
    out.push_back({{"shape", shape.name},
                   {"connections", made.connections.size()},
                   {"failures", made.failures},
                   {"processes", processes},
                   {"errors", errors}});
  }
  return out;
}

Json MeasureHeal(BenchDomain& bench, const HealConfig& config, std::ostream& log) {
  Json out = Json::array();
  auto client = MakeClient(bench, "bench-heal", /*heal=*/true);
  if (!client.ok()) return Json{{"error", client.status().ToString()}};
  auto tmpl = RequestFor(kRemoteService);
  if (!tmpl.ok()) return Json{{"error", tmpl.status().ToString()}};
  int attempt = 0;
  for (const std::string& role_name : config.roles) {
    Json reps = Json::array();
    std::vector<double> healed_ms;
    for (int rep = 0; rep < config.repetitions; ++rep) {
      Json rep_json = {{"repetition", rep}};
      conformance::RunningRole* role = RoleToKill(bench, role_name);
      if (role == nullptr) {
        rep_json["error"] = absl::StrCat("unknown role ", role_name);
        reps.push_back(rep_json);
        break;
      }
      networkservice::NetworkServiceRequest request = *tmpl;
      request.mutable_connection()->set_id(absl::StrCat("heal-", attempt++));
      auto conn = (*client)->client->Request(request, absl::Seconds(30));
      if (!conn.ok()) {
        rep_json["error"] = absl::StrCat("request: ", conn.status().ToString());
        reps.push_back(rep_json);
        continue;
      }
      const std::string key = KeyOf(*conn);
      RequestRecorder& recorder = *(*client)->recorder;

      // The prober: one ICMP echo every probe_interval from the client's namespace, to the
      // endpoint address of the connection as last returned (a reselect may change it).
      std::mutex mu;
      std::vector<Probe> probes;
      std::atomic<bool> stop{false};
      std::thread prober([&] {
        (void)kernel::RunInNetNs(bench.client_ns(), [&] {
          nsc::LivenessOptions once;
          once.packets = 1;
          once.timeout = absl::Milliseconds(20);
          while (!stop) {
            const std::int64_t t = NowNs();
            bool ok = false;
            if (auto last = recorder.Last(key); last.has_value()) {
              std::vector<nsc::LivenessPair> pairs = nsc::LivenessPairs(*last);
              if (!pairs.empty()) ok = nsc::Ping(pairs[0], once).value_or(false);
            }
            {
              std::lock_guard lock(mu);
              probes.push_back(Probe{t, ok});
            }
            const std::int64_t next = t + absl::ToInt64Nanoseconds(config.probe_interval);
            const std::int64_t wait = next - NowNs();
            if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
          }
        });
      });
      absl::SleepFor(absl::Milliseconds(300));  // a stable baseline before the kill

      const std::int64_t kill_ns = NowNs();
      absl::Status killed = role->Kill();
      absl::Status restarted = role->Restart(absl::Seconds(30));
      const std::int64_t restarted_ns = NowNs();
      if (role_name == "nse" && restarted.ok()) {
        restarted = bench.domain().WaitForEndpoint("nse-b", absl::Seconds(30));
      }
      const std::int64_t deadline = kill_ns + absl::ToInt64Nanoseconds(config.max_window);
      while (NowNs() < deadline) {
        absl::SleepFor(absl::Milliseconds(50));
        std::vector<Probe> snapshot;
        {
          std::lock_guard lock(mu);
          snapshot = probes;
        }
        HealOutcome now = AnalyseHeal(kill_ns, snapshot, recorder.Times(key));
        const std::int64_t t = NowNs();
        if (now.rerequest_ns && now.healed_ns &&
            t - (kill_ns + *now.healed_ns) >= absl::ToInt64Nanoseconds(config.stable)) {
          break;
        }
        if (!now.rerequest_ns && !now.outage &&
            t - restarted_ns >= absl::ToInt64Nanoseconds(config.quiet)) {
          break;
        }
      }
      stop = true;
      prober.join();
      HealOutcome outcome = AnalyseHeal(kill_ns, probes, recorder.Times(key));
      rep_json["outcome"] = ToJson(outcome);
      rep_json["probes"] = probes.size();
      rep_json["restart_ms"] = static_cast<double>(restarted_ns - kill_ns) / 1e6;
      if (!killed.ok()) rep_json["kill_error"] = killed.ToString();
      if (!restarted.ok()) rep_json["restart_error"] = restarted.ToString();
      if (outcome.healed_ns) healed_ms.push_back(static_cast<double>(*outcome.healed_ns) / 1e6);
      log << "heal " << role_name << " #" << rep << ": " << rep_json["outcome"].dump() << std::endl;
      if (auto last = recorder.Last(key); last.has_value()) {
        (void)(*client)->client->Close(*last, absl::Seconds(10));
      }
      reps.push_back(rep_json);
    }
    std::optional<double> median = Median(healed_ms);
    out.push_back({{"role", role_name},
                   {"repetitions", reps},
                   {"healed", healed_ms.size()},
                   {"median_healed_ms", median ? Json(*median) : Json(nullptr)}});
  }
  return out;
}

absl::StatusOr<Json> MeasureDataPath(BenchDomain& bench, const DataPathConfig& config,
                                     std::ostream& log) {
  auto client = MakeClient(bench, "bench-datapath", /*heal=*/false);
  if (!client.ok()) return client.status();
  std::vector<PathKind> paths;
  struct Want {
    bool on;
    std::string service, server, name, baseline;
  };
  const std::vector<Want> wants = {
      {config.local, kLocalService, "nse-a", "forwarder-kernel", "plain-veth"},
      {config.remote, kRemoteService, "nse-b", "forwarder-vxlan", "plain-vxlan"}};
  Json connections = Json::array();
  for (const Want& want : wants) {
    if (!want.on) continue;
    auto tmpl = RequestFor(want.service);
    if (!tmpl.ok()) return tmpl.status();
    tmpl->mutable_connection()->set_id(absl::StrCat("dp-", want.name));
    auto conn = (*client)->client->Request(*tmpl, absl::Seconds(30));
    if (!conn.ok()) return conn.status();
    std::vector<nsc::LivenessPair> pairs = nsc::LivenessPairs(*conn);
    if (pairs.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(want.service, ": the connection has no address pair"));
    }
    auto baseline = FindBuiltinPath(want.baseline);
    if (!baseline.ok()) return baseline.status();
    auto external = ParseExternalPath(absl::StrCat(
        "name=", want.name, ",baseline=", want.baseline,
        ",client-ns=", bench.domain().NetnsName(kClientWorkload), ",client-ip=", pairs[0].src,
        ",server-ns=", bench.domain().NetnsName(want.server), ",server-ip=", pairs[0].dst));
    if (!external.ok()) return external.status();
    external->description =
        absl::StrCat("a ", want.service == kLocalService ? "local (KERNEL)" : "remote (VXLAN)",
                     " connection the reference forwarder(s) programmed: ", want.baseline,
                     " is its raw kernel baseline");
    paths.push_back(*baseline);
    paths.push_back(*external);
    connections.push_back({{"path", want.name},
                           {"src", pairs[0].src},
                           {"dst", pairs[0].dst},
                           {"interface", conn->mechanism().parameters().count("name")
                                             ? conn->mechanism().parameters().at("name")
                                             : ""}});
  }
  auto doc = RunSuite(paths, config.suite, log);
  if (!doc.ok()) return doc.status();
  (*doc)["connections"] = connections;
  return doc;
}

namespace {

// Where a profile target sends its Requests, and which service it asks for.
struct ProfileTarget {
  std::string url;
  std::string service;
};

absl::StatusOr<ProfileTarget> ResolveProfileTarget(BenchDomain& bench, const std::string& name) {
  conformance::Domain& d = bench.domain();
  const bool local = name.starts_with("local/");
  const bool remote = name.starts_with("remote/");
  if (!local && !remote) {
    return absl::InvalidArgumentError(absl::StrCat("profile target ", name, ": unknown shape"));
  }
  const std::string hop = name.substr(local ? 6 : 7);
  ProfileTarget out;
  out.service = local ? kLocalService : kRemoteService;
  if (hop == "nsmgr") {
    out.url = bench.client_nsmgr_url();
  } else if (local && hop == "forwarder") {
    if (d.forwarder("node-a") != nullptr) out.url = d.forwarder("node-a")->url();
  } else if (remote && hop == "nsmgr-b") {
    if (d.node("node-b") != nullptr) out.url = d.node("node-b")->nsmgr_url;
  } else if (remote && hop == "forwarder-b") {
    if (d.forwarder("node-b") != nullptr) out.url = d.forwarder("node-b")->url();
  } else if (hop == "nse") {
    conformance::DomainEndpoint* e = d.endpoint(local ? "nse-a" : "nse-b");
    if (e != nullptr) out.url = e->role->url();
  } else {
    return absl::InvalidArgumentError(absl::StrCat("profile target ", name, ": unknown hop"));
  }
  if (out.url.empty()) {
    return absl::NotFoundError(absl::StrCat("profile target ", name, ": no URL in the domain"));
  }
  return out;
}

// The MonitorConnection servers along both shapes' paths, by label.
std::vector<std::pair<std::string, std::string>> HopUrls(BenchDomain& bench) {
  conformance::Domain& d = bench.domain();
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* node : {"node-a", "node-b"}) {
    const std::string suffix = std::string(node).substr(5);
    if (d.node(node) != nullptr) out.emplace_back("nsmgr-" + suffix, d.node(node)->nsmgr_url);
    if (d.forwarder(node) != nullptr)
      out.emplace_back("forwarder-" + suffix, d.forwarder(node)->url());
  }
  for (const char* nse : {"nse-a", "nse-b"}) {
    if (d.endpoint(nse) != nullptr) out.emplace_back(nse, d.endpoint(nse)->role->url());
  }
  return out;
}

// The processes of the domain whose CPU time a profile reports.
std::vector<Watched> ProfiledProcesses() {
  return {{"registry", "node-a", "nsmcert-registry"},
          {"nsmgr-a", "node-a", "nsmcert-nsmgr"},
          {"forwarder-a", "node-a", "nsmcert-forwarder"},
          {"nse-a", "nse-a", "nsmcert-nse"},
          {"nsmgr-b", "node-b", "nsmcert-nsmgr"},
          {"forwarder-b", "node-b", "nsmcert-forwarder"},
          {"nse-b", "nse-b", "nsmcert-nse"}};
}

// CPU ticks of every profiled process (and of this one, the client) at one moment.
std::map<std::string, ProcessCpu> CpuSnapshot(const std::map<std::string, pid_t>& pids) {
  std::map<std::string, ProcessCpu> out;
  for (const auto& [label, pid] : pids) {
    if (auto cpu = ReadProcessCpu(pid); cpu.ok()) out[label] = *cpu;
  }
  return out;
}

// CPU milliseconds per operation per process between two snapshots, and the sum.
Json CpuPerOp(const std::map<std::string, ProcessCpu>& before,
              const std::map<std::string, ProcessCpu>& after, std::size_t ops) {
  Json out = Json::object();
  if (ops == 0) return out;
  const double ms_per_tick = MsPerTick();
  double total = 0;
  for (const auto& [label, a] : after) {
    auto b = before.find(label);
    if (b == before.end()) continue;
    const double user = static_cast<double>(a.user_ticks - b->second.user_ticks) * ms_per_tick;
    const double system =
        static_cast<double>(a.system_ticks - b->second.system_ticks) * ms_per_tick;
    out[label] = {{"user_ms", user / static_cast<double>(ops)},
                  {"system_ms", system / static_cast<double>(ops)},
                  {"threads_after", a.threads}};
    total += user + system;
  }
  out["total_ms"] = total / static_cast<double>(ops);
  return out;
}

void Pause(const ProfileConfig& config, std::ostream& log, const std::string& phase,
           const Json& detail) {
  if (!config.pause) return;
  log << "profile: " << phase << " " << detail.dump() << std::endl;
  std::string line;
  std::getline(std::cin, line);
}

}  // namespace

Json MeasureProfile(BenchDomain& bench, const ProfileConfig& config, std::ostream& log) {
  Json out = Json::array();
  std::map<std::string, pid_t> pids;
  pids["client"] = getpid();
  for (const Watched& w : ProfiledProcesses()) {
    auto pid = PidOf(bench, w);
    if (pid.ok()) pids[w.label] = *pid;
  }
  int client_index = 0;
  for (const std::string& spec : config.targets) {
    // "<target>@<concurrency>": this target at its own concurrency, with at least as many
    // connections (e.g. an overload round, then single requests on the same domain).
    std::string name = spec;
    int concurrency = config.concurrency;
    int connections = config.connections;
    if (const size_t at = spec.find('@'); at != std::string::npos) {
      name = spec.substr(0, at);
      if (!absl::SimpleAtoi(spec.substr(at + 1), &concurrency) || concurrency <= 0) {
        out.push_back({{"target", spec}, {"error", "want <target>@<positive concurrency>"}});
        continue;
      }
      connections = std::max(connections, concurrency);
    }
    Json result = {{"target", name}, {"connections", connections}, {"concurrency", concurrency}};
    auto target = ResolveProfileTarget(bench, name);
    if (!target.ok()) {
      result["error"] = target.status().ToString();
      out.push_back(result);
      continue;
    }
    result["url"] = target->url;
    // A client of its own per target: a fresh channel, warmed up below.
    auto client = MakeClient(bench, absl::StrCat("bench-profile-", client_index++),
                             /*heal=*/false, target->url);
    if (!client.ok()) {
      result["error"] = client.status().ToString();
      out.push_back(result);
      continue;
    }
    auto tmpl = RequestFor(target->service);
    if (!tmpl.ok()) return Json{{"error", tmpl.status().ToString()}};
    const absl::Duration timeout = absl::Seconds(60);
    const std::string prefix = absl::StrCat("p", client_index);
    Round warm = RequestRound(**client, *tmpl, prefix + "-warm", config.warmup, 1, timeout);
    CloseRound(**client, warm.connections, 1, timeout);
    if (warm.failures > 0) result["warmup_error"] = warm.first_error;

    Json pid_json = Json::object();
    for (const auto& [label, pid] : pids) pid_json[label] = pid;
    Pause(config, log, "requests", {{"target", name}, {"pids", pid_json}});
    auto cpu0 = CpuSnapshot(pids);
    Round requests = RequestRound(**client, *tmpl, prefix, connections, concurrency, timeout);
    auto cpu1 = CpuSnapshot(pids);
    Pause(config, log, "closes", {{"target", name}, {"pids", pid_json}});
    auto cpu2 = CpuSnapshot(pids);
    Round closes = CloseRound(**client, requests.connections, concurrency, timeout);
    auto cpu3 = CpuSnapshot(pids);
    Pause(config, log, "done", {{"target", name}, {"pids", pid_json}});
    // What every hop still holds once the client has closed all it got: connections whose
    // Request failed at the client but were made further down (they live until their token
    // expires), or Closes that did not reach the end of the path.
    std::set<std::string> made;
    for (const connection::Connection& c : requests.connections) made.insert(c.id());
    Json left = Json::object();
    for (const auto& [label, url] : HopUrls(bench)) {
      auto held = bench.domain().MonitorSnapshotAt(url, {}, absl::Seconds(10));
      if (!held.ok()) {
        left[label] = {{"error", held.status().ToString()}};
        continue;
      }
      int of_failed = 0;
      for (const auto& [key, conn] : *held) {
        const std::string first =
            conn.path().path_segments_size() > 0 ? conn.path().path_segments(0).id() : conn.id();
        if (!made.contains(first)) ++of_failed;
      }
      left[label] = {{"connections", held->size()}, {"of_failed_requests", of_failed}};
    }
    result["left_after_close"] = left;

    result["request"] = RoundJson(requests);
    result["close"] = RoundJson(closes);
    result["request_cpu_per_op"] = CpuPerOp(cpu0, cpu1, requests.latencies_ns.size());
    result["close_cpu_per_op"] = CpuPerOp(cpu2, cpu3, closes.latencies_ns.size());
    log << "profile " << spec << ": request p50 " << result["request"]["p50_ms"].get<double>()
        << " ms (CPU " << result["request_cpu_per_op"].value("total_ms", 0.0)
        << " ms/op), close p50 " << result["close"]["p50_ms"].get<double>() << " ms (CPU "
        << result["close_cpu_per_op"].value("total_ms", 0.0) << " ms/op), failures "
        << requests.failures << "/" << closes.failures
        << (requests.failures ? " (" + requests.first_error + ")" : "") << std::endl;
    out.push_back(result);
  }
  return out;
}

}  // namespace nsmcert::bench::scenario
