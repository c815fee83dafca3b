#include "conformance/cases/selection/selection_case.h"

namespace nsmcert::conformance::nsm_cases {

registry::Match MakeMatch(const Labels& source, const std::vector<Labels>& destinations,
                          bool fallthrough, const Labels& metadata) {
  registry::Match match;
  for (const auto& [key, value] : source) (*match.mutable_source_selector())[key] = value;
  for (const Labels& destination : destinations) {
    auto* route = match.add_routes();
    for (const auto& [key, value] : destination) {
      (*route->mutable_destination_selector())[key] = value;
    }
  }
  match.set_fallthrough(fallthrough);
  for (const auto& [key, value] : metadata) {
    (*match.mutable_metadata()->mutable_labels())[key] = value;
  }
  return match;
}

absl::Status SelectionCase::RegisterService(CaseContext& context, const std::string& name,
                                            const std::vector<registry::Match>& matches) {
  if (registry_ == nullptr) {
    NSMCERT_CASE_ASSIGN_OR_RETURN(
        registry_, registry_cases::RegistryClient::Connect(domain().node(kNodeA)->nsmgr_url,
                                                           context, transcript()));
  }
  registry::NetworkService ns;
  ns.set_name(name);
  ns.set_payload("ETHERNET");
  for (const registry::Match& match : matches) *ns.add_matches() = match;
  auto result = registry_->RegisterNs(ns);
  return registry_cases::ExpectRpcOk(Cat("Register of network service ", name, " with matches"),
                                     result.status);
}

EndpointOptions SelectionCase::Endpoint(const std::string& workload,
                                        const std::vector<std::string>& services,
                                        const Labels& labels, const std::string& cidr) {
  EndpointOptions options;
  options.workload = workload;
  options.services = services;
  options.labels = labels;
  options.cidr = cidr;
  options.env["NSM_REGISTER_SERVICE"] = "false";
  return options;
}

}  // namespace nsmcert::conformance::nsm_cases
