#include "conformance/cases/domain.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/grpcpp.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "conformance/cases/check.h"
#include "conformance/cases/text.h"
#include "connection.grpc.pb.h"
#include "reference/kernel/netlink.h"
#include "reference/kernel/netns.h"
#include "reference/kernel/testing.h"
#include "registry.grpc.pb.h"

namespace nsmcert::conformance {
namespace {

constexpr absl::Duration kStopGrace = absl::Seconds(3);
constexpr absl::Duration kPollInterval = absl::Milliseconds(200);

absl::StatusOr<std::filesystem::path> MakeShortTempDir(std::string_view prefix) {
  // Unix socket paths must stay under 108 bytes: a short base directory.
  std::string pattern = Cat("/tmp/", prefix, "-XXXXXX");
  if (mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(Cat("cannot create ", pattern, ": ", std::strerror(errno)));
  }
  return std::filesystem::path(pattern);
}

std::string JoinLabels(const std::map<std::string, std::string>& labels, char separator) {
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    Append(out, key, separator, value);
  }
  return out;
}

std::string ReadFileText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Prefixed(const absl::Status& status, std::string_view prefix) {
  return Cat(prefix, std::string(status.message()));
}

absl::Status Annotate(const absl::Status& status, std::string_view prefix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), Prefixed(status, prefix));
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& unix_url) {
  // gRPC reads "unix:///abs/path" itself; tcp URLs of nodes are not dialled from here (they
  // exist only inside the node namespaces).
  return grpc::CreateChannel(unix_url, grpc::InsecureChannelCredentials());
}

std::string DescribeConnection(const connection::Connection& conn) {
  std::string names;
  for (const auto& segment : conn.path().path_segments()) {
    if (!names.empty()) names += ",";
    names += segment.name();
  }
  return Cat("{id ", conn.id(), ", state ", connection::State_Name(conn.state()), ", path [", names,
             "], endpoint ", conn.network_service_endpoint_name(), "}");
}

bool SamePath(const connection::Connection& a, const connection::Connection& b) {
  const auto& sa = a.path().path_segments();
  const auto& sb = b.path().path_segments();
  if (sa.size() != sb.size()) return false;
  for (int i = 0; i < sa.size(); ++i) {
    if (sa[i].name() != sb[i].name() || sa[i].id() != sb[i].id()) return false;
  }
  const auto& ia = a.context().ip_context();
  const auto& ib = b.context().ip_context();
  return std::equal(ia.dst_ip_addrs().begin(), ia.dst_ip_addrs().end(), ib.dst_ip_addrs().begin(),
                    ib.dst_ip_addrs().end()) &&
         std::equal(ia.src_ip_addrs().begin(), ia.src_ip_addrs().end(), ib.src_ip_addrs().begin(),
                    ib.src_ip_addrs().end());
}

}  // namespace

std::filesystem::path DefaultTopologyFile() {
  if (const char* file = std::getenv("NSMCERT_TOPOLOGY_FILE"); file != nullptr && *file != '\0') {
    return file;
  }
  return std::filesystem::path(NSMCERT_SOURCE_DIR) / "fixtures/topologies/two-node.yaml";
}

// ---------------------------------------------------------------------------------------------
// DomainClient

std::vector<std::string> DomainClient::connection_ids() const {
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < options_.network_services.size(); ++i) {
    ids.push_back(Cat(options_.name, "-", i));
  }
  return ids;
}

absl::Status DomainClient::Stop(absl::Duration grace) {
  if (process_ == nullptr || !process_->running()) return absl::OkStatus();
  return process_->Stop(grace);
}

// ---------------------------------------------------------------------------------------------
// Domain: lifetime

Domain::Domain(CaseContext& context, DomainOptions options)
    : context_(context), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Domain>> Domain::Start(CaseContext& context, DomainOptions options) {
  if (!options.topology.has_value()) {
    auto spec = harness::LoadTopologyFile(DefaultTopologyFile().string());
    if (!spec.ok()) return spec.status();
    options.topology = *std::move(spec);
  }
  if (options.topology->nodes.empty()) {
    return absl::InvalidArgumentError("domain topology: no nodes");
  }
  if (options.registry_node.empty()) options.registry_node = options.topology->nodes.front().name;
  if (options.topology->FindNode(options.registry_node) == nullptr) {
    return absl::InvalidArgumentError(
        Cat("domain registry_node \"", options.registry_node, "\": no such node in the topology"));
  }
  std::unique_ptr<Domain> domain(new Domain(context, std::move(options)));
  auto work_dir = MakeShortTempDir("nsmc-dom");
  if (!work_dir.ok()) return work_dir.status();
  domain->work_dir_ = *work_dir;
  auto topology = harness::Topology::Build(*domain->options_.topology);
  if (!topology.ok()) return Annotate(topology.status(), "building the domain's topology: ");
  domain->topology_ = *std::move(topology);
  context.log().Write(Cat("domain: topology ", domain->options_.topology->name, " built, run ",
                          domain->topology_->run_id().str()));
  if (absl::Status s = domain->StartControlPlane(); !s.ok()) {
    (void)domain->Stop();
    return s;
  }
  return domain;
}

std::map<std::string, std::string> Domain::ReferenceEnv(
    const std::map<std::string, std::string>& role, const std::string& name) const {
  std::map<std::string, std::string> env = options_.env;
  for (const auto& [key, value] : role) env[key] = value;
  env.try_emplace("NSM_LOG_LEVEL", options_.log_level);
  env["NSM_NAME"] = name;
  return env;
}

absl::Status Domain::StartControlPlane() {
  // The registry, on the well-known port of its node's underlay address.
  const harness::BuiltNode* registry_node = topology_->FindNode(options_.registry_node);
  const std::string registry_address = registry_node->underlay.address.ToString();
  registry_url_ = Cat("tcp://", registry_address, ":", kDomainRegistryPort);
  {
    RoleStartOptions start;
    start.name = "registry";
    start.node = registry_node->name;
    start.netns_path = registry_node->netns.path;
    start.listen_url = registry_url_;
    start.template_values = {{"registry_url", registry_url_}, {"tunnel_ip", registry_address}};
    start.reference_env = ReferenceEnv(options_.registry_env, "registry");
    auto role = context_.roles().Start(Role::kRegistry, std::move(start));
    if (!role.ok()) return role.status();
    registry_ = *std::move(role);
  }
  // An nsmgr per node, then a forwarder per node (a forwarder registers through its nsmgr).
  for (const harness::BuiltNode& built : topology_->nodes()) {
    auto node = std::make_unique<DomainNode>();
    node->node = &built;
    node->address = built.underlay.address.ToString();
    const std::string name = Cat("nsmgr-", built.name);
    node->nsmgr_url = Cat("unix://", (work_dir_ / Cat(name, ".sock")).string());
    node->nsmgr_public_url = Cat("tcp://", node->address, ":", kDomainNsmgrPort);
    RoleStartOptions start;
    start.name = name;
    start.node = built.name;
    start.netns_path = built.netns.path;
    start.listen_url = Cat(node->nsmgr_url, ",", node->nsmgr_public_url);
    start.template_values = {{"registry_url", registry_url_}, {"tunnel_ip", node->address}};
    std::map<std::string, std::string> env = options_.nsmgr_env;
    env.try_emplace("NSM_REGISTRY_URL", registry_url_);
    env.try_emplace("NODE_NAME", built.name);
    env.try_emplace("NSM_EXCLUDED_PREFIXES_PATH",
                    (work_dir_ / Cat(name, "-excluded-prefixes.yaml")).string());
    start.reference_env = ReferenceEnv(env, name);
    auto role = context_.roles().Start(Role::kNsmgr, std::move(start));
    if (!role.ok()) return role.status();
    node->nsmgr = *std::move(role);
    nodes_.push_back(std::move(node));
  }
  for (auto& node : nodes_) {
    const std::string name = Cat("forwarder-", node->node->name);
    RoleStartOptions start;
    start.name = name;
    start.node = node->node->name;
    start.netns_path = node->node->netns.path;
    start.listen_url = Cat("unix://", (work_dir_ / Cat(name, ".sock")).string());
    start.template_values = {{"registry_url", registry_url_},
                             {"connect_to", node->nsmgr_url},
                             {"tunnel_ip", node->address}};
    std::map<std::string, std::string> env = options_.forwarder_env;
    env.try_emplace("NSM_CONNECT_TO", node->nsmgr_url);
    env.try_emplace("NSM_TUNNEL_IP", node->address);
    env.try_emplace("NODE_NAME", node->node->name);
    start.reference_env = ReferenceEnv(env, name);
    auto role = context_.roles().Start(Role::kForwarder, std::move(start));
    if (!role.ok()) return role.status();
    node->forwarder = *std::move(role);
  }
  context_.log().Write(Cat("domain: registry at ", registry_url_, ", ", nodes_.size(),
                           " nodes with an nsmgr and a forwarder"));
  return absl::OkStatus();
}

Domain::~Domain() {
  if (absl::Status s = Stop(); !s.ok())
    context_.log().Write(Cat("domain teardown: ", s.ToString()));
}

absl::Status Domain::Stop() {
  if (stopped_) return absl::OkStatus();
  stopped_ = true;
  std::vector<std::string> errors;
  // Clients and endpoints first, so they can still close and unregister through their nsmgr.
  for (auto& client : clients_) (void)client->Stop(kStopGrace);
  for (auto& endpoint : endpoints_) {
    if (endpoint->role->running()) (void)endpoint->role->Stop(kStopGrace);
  }
  clients_.clear();
  endpoints_.clear();
  for (auto& node : nodes_) {
    if (node->forwarder != nullptr && node->forwarder->running()) {
      (void)node->forwarder->Stop(kStopGrace);
    }
  }
  for (auto& node : nodes_) node->forwarder.reset();
  for (auto& node : nodes_) {
    if (node->nsmgr != nullptr && node->nsmgr->running()) (void)node->nsmgr->Stop(kStopGrace);
  }
  nodes_.clear();
  registry_.reset();
  if (topology_ != nullptr) {
    if (absl::Status s = topology_->Teardown(); !s.ok()) errors.push_back(s.ToString());
    topology_.reset();
  }
  if (!work_dir_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(work_dir_, error);
  }
  if (errors.empty()) return absl::OkStatus();
  return absl::InternalError(Join(errors, "; "));
}

// ---------------------------------------------------------------------------------------------
// Accessors

std::vector<DomainNode*> Domain::nodes() {
  std::vector<DomainNode*> out;
  for (auto& node : nodes_) out.push_back(node.get());
  return out;
}

DomainNode* Domain::node(std::string_view name) {
  for (auto& node : nodes_) {
    if (node->node->name == name) return node.get();
  }
  return nullptr;
}

RunningRole* Domain::nsmgr(std::string_view node_name) {
  DomainNode* found = node(node_name);
  return found == nullptr ? nullptr : found->nsmgr.get();
}

RunningRole* Domain::forwarder(std::string_view node_name) {
  DomainNode* found = node(node_name);
  return found == nullptr ? nullptr : found->forwarder.get();
}

std::string Domain::NetnsPath(std::string_view element) const {
  const harness::TopologyNamespace* ns = topology_->FindNamespace(element);
  return ns == nullptr ? std::string() : ns->path;
}

std::string Domain::NetnsName(std::string_view element) const {
  const harness::TopologyNamespace* ns = topology_->FindNamespace(element);
  return ns == nullptr ? std::string() : ns->name;
}

// ---------------------------------------------------------------------------------------------
// Endpoints

absl::StatusOr<DomainEndpoint*> Domain::StartEndpoint(EndpointOptions options) {
  const harness::BuiltWorkload* workload = topology_->FindWorkload(options.workload);
  if (workload == nullptr) {
    return absl::InvalidArgumentError(
        Cat("endpoint workload \"", options.workload, "\": no such workload in the topology"));
  }
  if (options.name.empty()) options.name = options.workload;
  if (endpoint(options.name) != nullptr) {
    return absl::AlreadyExistsError(Cat("endpoint \"", options.name, "\" already runs"));
  }
  DomainNode* node_roles = node(workload->node);
  auto endpoint = std::make_unique<DomainEndpoint>();
  endpoint->node = workload->node;
  RoleStartOptions start;
  start.name = options.name;
  start.node = workload->node;
  start.netns_path = workload->netns.path;
  start.template_values = {{"registry_url", registry_url_},
                           {"connect_to", node_roles->nsmgr_url},
                           {"tunnel_ip", node_roles->address}};
  // cmd-nse-icmp-responder's variables (spec §13.3): what the case asks of its endpoint, for
  // reference and external NSEs alike.
  start.upstream_env = {{"NSM_NAME", options.name},
                        {"NSM_CONNECT_TO", node_roles->nsmgr_url},
                        {"NSM_SERVICE_NAMES", Join(options.services, ",")},
                        {"NSM_CIDR_PREFIX", options.cidr},
                        {"NSM_LABELS", JoinLabels(options.labels, ':')},
                        {"NSM_PAYLOAD", options.payload}};
  start.reference_env = ReferenceEnv(options.env, options.name);
  endpoint->options = std::move(options);
  auto role = context_.roles().Start(Role::kNse, std::move(start));
  if (!role.ok()) return role.status();
  endpoint->role = *std::move(role);
  endpoints_.push_back(std::move(endpoint));
  return endpoints_.back().get();
}

DomainEndpoint* Domain::endpoint(std::string_view name) {
  for (auto& endpoint : endpoints_) {
    if (endpoint->options.name == name) return endpoint.get();
  }
  return nullptr;
}

absl::Status Domain::StopEndpoint(std::string_view name) {
  auto it = std::find_if(endpoints_.begin(), endpoints_.end(),
                         [&](const auto& endpoint) { return endpoint->options.name == name; });
  if (it == endpoints_.end()) {
    return absl::NotFoundError(Cat("endpoint \"", name, "\" is not running"));
  }
  absl::Status status = (*it)->role->running() ? (*it)->role->Stop(kStopGrace) : absl::OkStatus();
  endpoints_.erase(it);
  return status;
}

// ---------------------------------------------------------------------------------------------
// Clients

absl::StatusOr<std::filesystem::path> Domain::ClientBinary() const {
  return FindReferenceBinary(Role::kNsc, context_.roles().settings());
}

absl::StatusOr<std::vector<connection::Connection>> Domain::RequestOnce(ClientOptions options) {
  const harness::BuiltWorkload* workload = topology_->FindWorkload(options.workload);
  if (workload == nullptr) {
    return absl::InvalidArgumentError(
        Cat("client workload \"", options.workload, "\": no such workload in the topology"));
  }
  if (options.name.empty()) options.name = options.workload;
  const RoleSpec& spec = context_.roles().spec(Role::kNsc);
  if (spec.implementation != Implementation::kReference) {
    return absl::UnimplementedError(
        "a one-shot request needs the reference NSC (an external NSC cannot print its "
        "connections for the suite); start it with StartClient instead");
  }
  auto binary = ClientBinary();
  if (!binary.ok()) return binary.status();
  DomainNode* node_roles = node(workload->node);
  const int n = ++oneshots_;
  const std::string process_name = Cat(options.name, "-oneshot-", n);
  const std::filesystem::path output = work_dir_ / Cat(process_name, ".json");

  harness::ProcessSpec process;
  process.name = process_name;
  // stdout (the JSON) to a file of its own; stderr (the log) to the process log.
  process.argv = {"/bin/sh",
                  "-c",
                  "exec \"$0\" --oneshot $2 > \"$1\"",
                  binary->string(),
                  output.string(),
                  options.close_after_request ? "--close" : ""};
  process.netns_path = workload->netns.path;
  process.working_dir = work_dir_.string();
  std::map<std::string, std::string> env = options.env;
  env.try_emplace("NSM_CONNECT_TO", node_roles->nsmgr_url);
  env.try_emplace("NSM_NETWORK_SERVICES", Join(options.network_services, ","));
  env.try_emplace("NSM_LABELS", JoinLabels(options.labels, '='));
  env.try_emplace("NSM_REQUEST_TIMEOUT", absl::FormatDuration(options.request_timeout));
  for (const auto& [key, value] : ReferenceEnv(env, options.name)) {
    process.env.emplace_back(key, value);
  }
  auto log = context_.evidence().NewFile(EvidenceKind::kLog, Cat(process_name, ".log"),
                                         Cat("stderr of the one-shot NSC ", options.name));
  if (!log.ok()) return log.status();
  harness::Supervisor::Options supervisor_options;
  supervisor_options.log_dir = context_.evidence().dir().string();
  supervisor_options.handle_signals = false;
  auto supervisor = harness::Supervisor::Create(supervisor_options);
  if (!supervisor.ok()) return supervisor.status();
  context_.log().Write(Cat("one-shot NSC ", options.name, " in ", workload->name, ": ",
                           Join(options.network_services, ",")));
  auto started = (*supervisor)->Start(std::move(process));
  if (!started.ok()) return started.status();
  // The NSC bounds each request by NSM_REQUEST_TIMEOUT; allow start-up and close on top.
  const absl::Duration wait =
      std::min(options.request_timeout * static_cast<double>(options.network_services.size()) +
                   absl::Seconds(10),
               std::max(context_.remaining(), absl::Seconds(1)));
  auto exit = (*started)->Wait(wait);
  if (!exit.ok()) {
    return absl::DeadlineExceededError(Cat("the one-shot NSC ", options.name,
                                           " did not exit within ", absl::FormatDuration(wait),
                                           ":\n", (*started)->LogTail(20)));
  }
  if (!exit->success()) {
    return absl::FailedPreconditionError(Cat("the one-shot NSC ", options.name, " ",
                                             exit->ToString(), ":\n", (*started)->LogTail(20)));
  }
  const std::string text = ReadFileText(output);
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return absl::DataLossError(
        Cat("the one-shot NSC ", options.name, " printed no JSON array: ", text.substr(0, 2000)));
  }
  std::vector<connection::Connection> connections;
  google::protobuf::util::JsonParseOptions json_options;
  json_options.ignore_unknown_fields = true;
  for (const nlohmann::json& item : parsed) {
    connection::Connection conn;
    auto status = google::protobuf::util::JsonStringToMessage(item.dump(), &conn, json_options);
    if (!status.ok()) {
      return absl::DataLossError(
          Cat("the one-shot NSC ", options.name, " printed a connection that does not parse: ",
              std::string(status.message().data(), status.message().size())));
    }
    connections.push_back(std::move(conn));
  }
  return connections;
}

absl::StatusOr<DomainClient*> Domain::StartClient(ClientOptions options) {
  const harness::BuiltWorkload* workload = topology_->FindWorkload(options.workload);
  if (workload == nullptr) {
    return absl::InvalidArgumentError(
        Cat("client workload \"", options.workload, "\": no such workload in the topology"));
  }
  if (options.name.empty()) options.name = options.workload;
  if (client(options.name) != nullptr) {
    return absl::AlreadyExistsError(Cat("client \"", options.name, "\" already runs"));
  }
  DomainNode* node_roles = node(workload->node);
  const RoleSpec& spec = context_.roles().spec(Role::kNsc);
  std::map<std::string, std::string> env = options.env;
  env.try_emplace("NSM_CONNECT_TO", node_roles->nsmgr_url);
  env.try_emplace("NSM_NETWORK_SERVICES", Join(options.network_services, ","));
  env.try_emplace("NSM_LABELS", JoinLabels(options.labels, '='));
  env.try_emplace("NSM_REQUEST_TIMEOUT", absl::FormatDuration(options.request_timeout));
  env = ReferenceEnv(env, options.name);

  harness::ProcessSpec process;
  process.name = options.name;
  process.netns_path = workload->netns.path;
  if (spec.implementation == Implementation::kReference) {
    auto binary = ClientBinary();
    if (!binary.ok()) return binary.status();
    process.argv = {binary->string()};
    process.working_dir = work_dir_.string();
    for (const auto& [key, value] : env) process.env.emplace_back(key, value);
  } else if (!spec.command.empty()) {
    std::map<std::string, std::string> values = {{"name", options.name},
                                                 {"node", workload->node},
                                                 {"listen_url", ""},
                                                 {"registry_url", registry_url_},
                                                 {"connect_to", node_roles->nsmgr_url},
                                                 {"tunnel_ip", node_roles->address},
                                                 {"work_dir", work_dir_.string()}};
    for (const std::string& arg : spec.command) {
      auto expanded = ExpandTemplate(arg, values);
      if (!expanded.ok()) return Annotate(expanded.status(), "roles.nsc.command: ");
      process.argv.push_back(*std::move(expanded));
    }
    // An external NSC gets upstream cmd-nsc's variables (spec §13.4) and the manifest's.
    for (const auto& [key, value] : env) process.env.emplace_back(key, value);
    for (const auto& [key, value] : spec.env) {
      auto expanded = ExpandTemplate(value, values);
      if (!expanded.ok()) return Annotate(expanded.status(), Cat("roles.nsc.env.", key, ": "));
      process.env.emplace_back(key, *std::move(expanded));
    }
  } else {
    return absl::UnimplementedError("an NSC reached at an address cannot be started per case");
  }
  auto log = context_.evidence().NewFile(EvidenceKind::kLog, Cat(options.name, ".log"),
                                         Cat("stdout and stderr of the NSC ", options.name));
  if (!log.ok()) return log.status();
  auto client = std::make_unique<DomainClient>();
  client->node_ = workload->node;
  harness::Supervisor::Options supervisor_options;
  supervisor_options.log_dir = context_.evidence().dir().string();
  supervisor_options.handle_signals = false;
  auto supervisor = harness::Supervisor::Create(supervisor_options);
  if (!supervisor.ok()) return supervisor.status();
  client->supervisor_ = *std::move(supervisor);
  context_.log().Write(
      Cat("NSC ", options.name, " in ", workload->name, ": ", Join(options.network_services, ",")));
  auto started = client->supervisor_->Start(std::move(process));
  if (!started.ok()) return started.status();
  client->process_ = *started;
  client->options_ = std::move(options);
  clients_.push_back(std::move(client));
  return clients_.back().get();
}

DomainClient* Domain::client(std::string_view name) {
  for (auto& client : clients_) {
    if (client->options_.name == name) return client.get();
  }
  return nullptr;
}

absl::Status Domain::StopClient(std::string_view name, absl::Duration grace) {
  auto it = std::find_if(clients_.begin(), clients_.end(),
                         [&](const auto& client) { return client->options_.name == name; });
  if (it == clients_.end()) return absl::NotFoundError(Cat("client \"", name, "\" is not running"));
  absl::Status status = (*it)->Stop(grace);
  clients_.erase(it);
  return status;
}

// ---------------------------------------------------------------------------------------------
// Observing

absl::StatusOr<std::map<std::string, connection::Connection>> Domain::MonitorSnapshot(
    std::string_view node_name, const MonitorSelector& selector, absl::Duration timeout) {
  DomainNode* found = node(node_name);
  if (found == nullptr) {
    return absl::InvalidArgumentError(Cat("monitor: no node \"", node_name, "\""));
  }
  return MonitorSnapshotAt(found->nsmgr_url, selector, timeout);
}

absl::StatusOr<std::map<std::string, connection::Connection>> Domain::MonitorSnapshotAt(
    const std::string& url, const MonitorSelector& selector, absl::Duration timeout) {
  auto stub = connection::MonitorConnection::NewStub(ChannelTo(url));
  connection::MonitorScopeSelector request;
  for (const std::string& service : selector.network_services) {
    request.add_network_services(service);
  }
  for (const auto& segment : selector.path_segments) *request.add_path_segments() = segment;
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto reader = stub->MonitorConnections(&call, request);
  connection::ConnectionEvent event;
  if (!reader->Read(&event)) {
    grpc::Status status = reader->Finish();
    return absl::UnavailableError(
        Cat("monitor at ", url, ": no initial event (", status.error_message(), ")"));
  }
  call.TryCancel();
  (void)reader->Finish();
  if (event.type() != connection::INITIAL_STATE_TRANSFER) {
    return absl::FailedPreconditionError(Cat("monitor at ", url, ": first event is ",
                                             connection::ConnectionEventType_Name(event.type()),
                                             ", not INITIAL_STATE_TRANSFER"));
  }
  return std::map<std::string, connection::Connection>(event.connections().begin(),
                                                       event.connections().end());
}

absl::StatusOr<std::vector<connection::Connection>> Domain::WaitForClientConnections(
    const DomainClient& client, absl::Duration timeout,
    const std::vector<connection::Connection>& different_from) {
  const std::vector<std::string> ids = client.connection_ids();
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "nothing yet";
  while (true) {
    auto snapshot = MonitorSnapshot(client.node(), {}, absl::Seconds(2));
    if (snapshot.ok()) {
      std::vector<connection::Connection> found(ids.size());
      std::size_t complete = 0;
      std::vector<std::string> seen;
      for (const auto& [key, conn] : *snapshot) {
        seen.push_back(DescribeConnection(conn));
        const auto& segments = conn.path().path_segments();
        if (segments.empty()) continue;
        auto it = std::find(ids.begin(), ids.end(), segments[0].id());
        if (it == ids.end()) continue;
        const std::size_t i = static_cast<std::size_t>(it - ids.begin());
        const bool up = conn.state() == connection::UP;
        const bool full =
            !conn.network_service_endpoint_name().empty() &&
            segments[segments.size() - 1].name() == conn.network_service_endpoint_name();
        const bool changed = i >= different_from.size() || !SamePath(conn, different_from[i]);
        if (up && full && changed && found[i].id().empty()) {
          found[i] = conn;
          ++complete;
        }
      }
      if (complete == ids.size()) return found;
      last = seen.empty() ? std::string("no connections") : Join(seen, "; ");
    } else {
      last = snapshot.status().ToString();
    }
    if (absl::Now() >= deadline) break;
    if (client.process_ != nullptr && !client.process_->running()) {
      return absl::FailedPreconditionError(
          Cat("the NSC ", client.options().name, " ended:\n", client.process_->LogTail(20)));
    }
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(
      Cat("connections ", Join(ids, ","), " of the NSC ", client.options().name, " not UP",
          different_from.empty() ? "" : " on a new path", " within ", absl::FormatDuration(timeout),
          "; the nsmgr of ", client.node(), " reports: ", last));
}

absl::Status Domain::WaitForNoConnections(std::string_view node_name, absl::Duration timeout) {
  DomainNode* found = node(node_name);
  if (found == nullptr) {
    return absl::InvalidArgumentError(Cat("monitor: no node \"", node_name, "\""));
  }
  return WaitForNoConnectionsAt(found->nsmgr_url, timeout);
}

absl::Status Domain::WaitForNoConnectionsAt(const std::string& url, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (true) {
    auto snapshot = MonitorSnapshotAt(url, {}, absl::Seconds(2));
    if (snapshot.ok()) {
      if (snapshot->empty()) return absl::OkStatus();
      std::vector<std::string> seen;
      for (const auto& [key, conn] : *snapshot) seen.push_back(DescribeConnection(conn));
      last = Join(seen, "; ");
    } else {
      last = snapshot.status().ToString();
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(Cat("the server at ", url, " still holds connections after ",
                                         absl::FormatDuration(timeout), ": ", last));
}

absl::StatusOr<std::vector<std::string>> Domain::RegisteredEndpoints(absl::Duration timeout) {
  // Through the registry node's nsmgr: the registry's tcp address exists only inside the node
  // namespaces, the nsmgr's unix socket is reachable from here.
  DomainNode* via = node(options_.registry_node);
  auto stub = registry::NetworkServiceEndpointRegistry::NewStub(ChannelTo(via->nsmgr_url));
  registry::NetworkServiceEndpointQuery query;
  query.mutable_network_service_endpoint();
  grpc::ClientContext call;
  call.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  auto reader = stub->Find(&call, query);
  std::vector<std::string> names;
  registry::NetworkServiceEndpointResponse response;
  while (reader->Read(&response)) {
    if (!response.deleted()) names.push_back(response.network_service_endpoint().name());
  }
  grpc::Status status = reader->Finish();
  if (!status.ok()) {
    return absl::UnavailableError(
        Cat("Find of every NSE through ", via->nsmgr_url, ": ", status.error_message()));
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status Domain::WaitForEndpoint(std::string_view name, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string last;
  while (true) {
    auto names = RegisteredEndpoints(absl::Seconds(2));
    if (names.ok()) {
      if (std::find(names->begin(), names->end(), name) != names->end()) return absl::OkStatus();
      last = Cat("[", Join(*names, ","), "]");
    } else {
      last = names.status().ToString();
    }
    if (absl::Now() >= deadline) break;
    absl::SleepFor(kPollInterval);
  }
  return absl::DeadlineExceededError(Cat("NSE \"", name, "\" not registered within ",
                                         absl::FormatDuration(timeout), "; registry: ", last));
}

absl::StatusOr<int> Domain::Ping(std::string_view element, std::string_view ip, int count,
                                 absl::Duration timeout) {
  const std::string path = NetnsPath(element);
  if (path.empty()) return absl::InvalidArgumentError(Cat("ping: no namespace \"", element, "\""));
  auto ns = kernel::NetNs::FromPath(path);
  if (!ns.ok()) return ns.status();
  return kernel::testing::Ping(*ns, ip, count,
                               static_cast<int>(absl::ToInt64Milliseconds(timeout)));
}

absl::StatusOr<std::vector<std::string>> Domain::Links(std::string_view element) {
  const std::string path = NetnsPath(element);
  if (path.empty()) return absl::InvalidArgumentError(Cat("links: no namespace \"", element, "\""));
  auto ns = kernel::NetNs::FromPath(path);
  if (!ns.ok()) return ns.status();
  auto nl = kernel::Netlink::Open(*ns);
  if (!nl.ok()) return nl.status();
  auto links = (*nl)->ListLinks();
  if (!links.ok()) return links.status();
  std::vector<std::string> out;
  for (const auto& link : *links) {
    out.push_back(link.kind.empty() ? link.name : Cat(link.name, " (", link.kind, ")"));
  }
  std::sort(out.begin(), out.end());
  return out;
}

absl::StatusOr<std::vector<std::string>> Domain::InterfaceAddresses(std::string_view element,
                                                                    std::string_view interface) {
  const std::string path = NetnsPath(element);
  if (path.empty()) {
    return absl::InvalidArgumentError(Cat("addresses: no namespace \"", element, "\""));
  }
  auto ns = kernel::NetNs::FromPath(path);
  if (!ns.ok()) return ns.status();
  auto nl = kernel::Netlink::Open(*ns);
  if (!nl.ok()) return nl.status();
  auto links = (*nl)->ListLinks();
  if (!links.ok()) return links.status();
  if (std::none_of(links->begin(), links->end(),
                   [&](const kernel::LinkInfo& link) { return link.name == interface; })) {
    return absl::NotFoundError(Cat("no interface ", interface, " in ", element));
  }
  auto addresses = (*nl)->ListAddresses(interface);
  if (!addresses.ok()) return addresses.status();
  std::vector<std::string> out;
  for (const auto& address : *addresses) out.push_back(address.cidr);
  std::sort(out.begin(), out.end());
  return out;
}

absl::Status Domain::RecreateWorkloadNamespace(std::string_view workload) {
  const harness::BuiltWorkload* found = topology_->FindWorkload(workload);
  if (found == nullptr) {
    return absl::InvalidArgumentError(Cat("recreate: no workload \"", workload, "\""));
  }
  // Processes still inside would keep the old namespace alive: the endpoint or client there
  // must be killed first by the caller (it is its role to do so); refuse otherwise.
  for (auto& endpoint : endpoints_) {
    if (endpoint->options.workload == workload && endpoint->role->running()) {
      return absl::FailedPreconditionError(
          Cat("recreate ", workload, ": endpoint ", endpoint->options.name, " still runs in it"));
    }
  }
  if (absl::Status s = kernel::DeleteNamedNetNs(found->netns.name); !s.ok()) return s;
  auto created = kernel::CreateNamedNetNs(found->netns.name);
  if (!created.ok()) return created.status();
  auto nl = kernel::Netlink::Open(*created);
  if (!nl.ok()) return nl.status();
  if (absl::Status s = (*nl)->SetUp("lo", true); !s.ok()) return s;
  context_.log().Write(Cat("domain: namespace of ", workload, " re-created"));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------
// StandaloneCaseContext

absl::StatusOr<std::unique_ptr<StandaloneCaseContext>> StandaloneCaseContext::Create(
    Options options) {
  std::unique_ptr<StandaloneCaseContext> out(new StandaloneCaseContext());
  auto dir = MakeShortTempDir("nsmc-case");
  if (!dir.ok()) return dir.status();
  out->dir_ = *dir;
  const char* keep = std::getenv("NSMCERT_KEEP_TEST_OUTPUT");
  out->keep_ = keep != nullptr && *keep != '\0';
  const std::filesystem::path manifest_file =
      options.manifest_file.empty()
          ? std::filesystem::path(NSMCERT_SOURCE_DIR) / "fixtures/manifests/reference.yaml"
          : options.manifest_file;
  auto manifest = LoadManifestFile(manifest_file.string());
  if (!manifest.ok()) return manifest.status();
  out->manifest_ = *std::move(manifest);
  out->info_.id = options.id;
  out->info_.title = "a test outside the runner";
  out->info_.spec = "-";
  const std::filesystem::path case_dir = out->dir_ / "cases" / options.id;
  std::error_code error;
  std::filesystem::create_directories(case_dir, error);
  if (error) return absl::InternalError(Cat("cannot create ", case_dir.string()));
  out->evidence_ = std::make_unique<EvidenceRecorder>(case_dir, Cat("cases/", options.id));
  out->log_ = std::make_unique<CaseLog>(case_dir / std::string(kCaseLogFileName), Clock::Real());
  RoleSettings settings;
  settings.bin_dir = options.bin_dir;
  out->context_ =
      std::make_unique<CaseContext>(out->info_, out->manifest_, *out->evidence_, *out->log_,
                                    Clock::Real(), absl::Now() + options.timeout, out->cancelled_,
                                    /*runs_in_own_process=*/false, settings);
  return out;
}

StandaloneCaseContext::~StandaloneCaseContext() {
  context_.reset();
  log_.reset();
  if (!keep_ && !dir_.empty()) {
    std::error_code error;
    std::filesystem::remove_all(dir_, error);
  }
}

}  // namespace nsmcert::conformance
