#include "conformance/cases/connectivity/domain_case.h"

#include "conformance/harness/topology_spec.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

constexpr char kCaseTopology[] = R"(name: cases
fabric:
  underlay: 10.100.0.0/24
  mtu: 1500
nodes:
  - name: node-a
    address: 10.100.0.1
    workloads:
      - {name: nsc-a, role: nsc}
      - {name: nse-a, role: nse}
      - {name: nse-a2, role: nse}
  - name: node-b
    address: 10.100.0.2
    workloads:
      - {name: nse-b, role: nse}
      - {name: nse-b2, role: nse}
)";

std::string ConnectionIdPrefix(const CaseContext& context) {
  std::string prefix;
  for (char c : context.info().id) {
    prefix.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return prefix;
}

}  // namespace

absl::StatusOr<harness::TopologySpec> CaseTopology() {
  return harness::ParseTopology(kCaseTopology, "cases.yaml");
}

absl::Status DomainCase::Arrange(CaseContext& context) {
  auto topology = CaseTopology();
  if (!topology.ok()) return topology.status();
  DomainOptions options;
  options.topology = *std::move(topology);
  Configure(options);
  id_prefix_ = ConnectionIdPrefix(context);
  NSMCERT_CASE_ASSIGN_OR_RETURN(domain_, Domain::Start(context, std::move(options)));
  transcript_ = std::make_unique<Transcript>(context, "exchanges.json");
  NSMCERT_CASE_ASSIGN_OR_RETURN(client_, NsmClient::Connect(domain_->node(kNodeA)->nsmgr_url,
                                                            "nsmgr-node-a", context, *transcript_));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<NsmClient>> DomainCase::ConnectNsmgr(CaseContext& context,
                                                                    std::string_view node) {
  DomainNode* found = domain_->node(node);
  if (found == nullptr) return absl::InvalidArgumentError(Cat("no node ", node));
  return NsmClient::Connect(found->nsmgr_url, Cat("nsmgr-", node), context, *transcript_);
}

absl::StatusOr<DomainEndpoint*> DomainCase::StartEndpoint(EndpointOptions options,
                                                          absl::Duration timeout) {
  const std::string name = options.name.empty() ? options.workload : options.name;
  auto endpoint = domain_->StartEndpoint(std::move(options));
  if (!endpoint.ok()) return endpoint.status();
  if (absl::Status s = domain_->WaitForEndpoint(name, timeout); !s.ok()) {
    // An NSE that serves but never registers is the implementation's failure when it is external,
    // ours otherwise (the role's verdict rule, roles.h).
    if ((*endpoint)->role->implementation() == Implementation::kExternal) {
      return CaseFailure(
          Cat("the NSE ", name, " never appeared in the registry: ", std::string(s.message())));
    }
    return s;
  }
  return *endpoint;
}

RequestSpec DomainCase::KernelRequest(std::string_view service, std::string_view suffix) {
  RequestSpec spec;
  spec.client_name = "conformance-nsc";
  spec.network_service = std::string(service);
  spec.connection_id = Cat(id_prefix_, "-", suffix);
  spec.interface_name = std::string(kClientInterface);
  absl::StatusOr<std::string> inode = NetnsInodeUrl(domain_->NetnsPath(kClientWorkload));
  spec.netns_inode_url = inode.ok() ? *inode : std::string();
  return spec;
}

absl::StatusOr<connection::Connection> DomainCase::RequestOk(const RequestSpec& spec,
                                                             const NsmCallOptions& options) {
  RequestResult result = client_->Request(MakeRequest(spec), options);
  if (!result.ok()) {
    return CaseFailure(Cat("Request for network service \"", spec.network_service,
                           "\" (connection ", spec.connection_id, "): expected OK, observed ",
                           DescribeStatus(result.status)));
  }
  return result.reply;
}

absl::Status DomainCase::ExpectPing(std::string_view from_netns, std::string_view address,
                                    absl::Duration timeout) {
  auto ping = PingUntilReply(from_netns, address, timeout);
  if (!ping.ok()) return ping.status();
  if (!ping->ok()) {
    return CaseFailure(Cat("ping ", address, " from ", from_netns, ": expected replies, observed ",
                           ping->received, " of ", ping->sent, " within ",
                           absl::FormatDuration(timeout), ":\n", ping->output));
  }
  return absl::OkStatus();
}

std::vector<absl::Status> CheckReturnedPath(const connection::Connection& reply,
                                            const std::string& client_id,
                                            const std::vector<std::string>& names) {
  std::vector<absl::Status> checks;
  const auto& segments = reply.path().path_segments();
  checks.push_back(ExpectEq(Cat("path segment count of ", DescribeSegments(reply)),
                            static_cast<int>(names.size()), segments.size()));
  checks.push_back(ExpectEq("path.index returned to the client", 0u, reply.path().index()));
  checks.push_back(
      ExpectEq("connection.id returned to the client (its own segment id)", client_id, reply.id()));
  for (int i = 0; i < segments.size(); ++i) {
    const auto& segment = segments[i];
    if (static_cast<std::size_t>(i) < names.size() && !names[i].empty()) {
      checks.push_back(ExpectEq(Cat("path segment ", i, " name"), names[i], segment.name()));
    }
    checks.push_back(Expect(!segment.id().empty(),
                            Cat("path segment ", i, " (", segment.name(), ") to have an id")));
    if (i > 0) {
      checks.push_back(Expect(!segment.token().empty(),
                              Cat("path segment ", i, " (", segment.name(), ") to carry a token")));
      checks.push_back(Expect(segment.has_expires(), Cat("path segment ", i, " (", segment.name(),
                                                         ") to carry an expiry")));
    }
  }
  // Ids are per hop: no two segments share one (spec §5.1).
  for (int i = 0; i < segments.size(); ++i) {
    for (int j = i + 1; j < segments.size(); ++j) {
      if (segments[i].id() == segments[j].id()) {
        checks.push_back(
            CaseFailure(Cat("path segments ", i, " and ", j,
                            ": expected distinct ids, observed both \"", segments[i].id(), "\"")));
      }
    }
  }
  return checks;
}

}  // namespace nsmcert::conformance::nsm_cases
