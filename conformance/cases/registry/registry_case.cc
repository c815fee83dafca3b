#include "conformance/cases/registry/registry_case.h"

#include <algorithm>

namespace nsmcert::conformance::registry_cases {
namespace {

std::string DescribeLabels(const registry::NetworkServiceEndpoint& nse) {
  // Sorted, so equal maps print equally whatever their order on the wire.
  std::map<std::string, std::map<std::string, std::string>> sorted;
  for (const auto& [service, labels] : nse.network_service_labels()) {
    auto& out = sorted[service];
    for (const auto& [key, value] : labels.labels()) out[key] = value;
  }
  std::string text = "{";
  bool first_service = true;
  for (const auto& [service, labels] : sorted) {
    Append(text, first_service ? "" : ", ", service, ": {");
    bool first = true;
    for (const auto& [key, value] : labels) {
      Append(text, first ? "" : ", ", key, "=", value);
      first = false;
    }
    text += "}";
    first_service = false;
  }
  return text + "}";
}

}  // namespace

absl::Status RegistryCase::Arrange(CaseContext& context) {
  prefix_ = UniquePrefix(context);
  NSMCERT_CASE_ASSIGN_OR_RETURN(registry_, context.roles().StartRegistry());
  transcript_ = std::make_unique<Transcript>(context, "exchanges.json");
  return Reconnect(context);
}

absl::Status RegistryCase::Reconnect(CaseContext& context) {
  if (client_ != nullptr) retired_clients_.push_back(std::move(client_));
  NSMCERT_CASE_ASSIGN_OR_RETURN(client_,
                                RegistryClient::Connect(registry_->url(), context, *transcript_));
  return absl::OkStatus();
}

registry::NetworkServiceEndpoint MakeNse(std::string_view name,
                                         const std::vector<std::string>& services,
                                         std::string_view url,
                                         const std::map<std::string, std::string>& labels) {
  registry::NetworkServiceEndpoint nse;
  nse.set_name(std::string(name));
  for (const std::string& service : services) nse.add_network_service_names(service);
  nse.set_url(std::string(url));
  if (!labels.empty() && !services.empty()) {
    auto& map = *(*nse.mutable_network_service_labels())[services.front()].mutable_labels();
    for (const auto& [key, value] : labels) map[key] = value;
  }
  return nse;
}

registry::NetworkService MakeNs(std::string_view name, std::string_view payload) {
  registry::NetworkService ns;
  ns.set_name(std::string(name));
  ns.set_payload(std::string(payload));
  return ns;
}

std::vector<absl::Status> CompareCallerFields(std::string_view what,
                                              const registry::NetworkServiceEndpoint& sent,
                                              const registry::NetworkServiceEndpoint& observed) {
  std::vector<absl::Status> checks;
  checks.push_back(ExpectEq(Cat(what, " name"), sent.name(), observed.name()));
  checks.push_back(ExpectEq(Cat(what, " url"), sent.url(), observed.url()));
  std::vector<std::string> sent_names(sent.network_service_names().begin(),
                                      sent.network_service_names().end());
  std::vector<std::string> observed_names(observed.network_service_names().begin(),
                                          observed.network_service_names().end());
  checks.push_back(ExpectEq(Cat(what, " network_service_names"), DescribeNames(sent_names),
                            DescribeNames(observed_names)));
  // The registry may add labels of its own (upstream adds nodeName and the like through its
  // clients); what the caller set must all be there.
  bool labels_kept = true;
  for (const auto& [service, labels] : sent.network_service_labels()) {
    const auto it = observed.network_service_labels().find(service);
    for (const auto& [key, value] : labels.labels()) {
      if (it == observed.network_service_labels().end()) {
        labels_kept = false;
        break;
      }
      const auto found = it->second.labels().find(key);
      if (found == it->second.labels().end() || found->second != value) labels_kept = false;
    }
  }
  if (!labels_kept) {
    checks.push_back(
        CaseFailure(Cat(what, " network_service_labels: expected to contain ", DescribeLabels(sent),
                        ", observed ", DescribeLabels(observed))));
  }
  return checks;
}

absl::Status ExpectStillServing(RegistryClient& client, std::string_view after,
                                std::string_view unused_name) {
  registry::NetworkServiceEndpoint query;
  query.set_name(std::string(unused_name));
  const auto found = client.FindNse(query);
  if (!found.ok()) {
    return CaseFailure(Cat("after ", after, " the registry should keep serving, but Find{name: \"",
                           unused_name, "\"} ended with ", DescribeRpcStatus(found.status)));
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::conformance::registry_cases
