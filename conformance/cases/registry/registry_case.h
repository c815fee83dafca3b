// The common shape of the registry cases (spec §8, §14 A): Arrange starts (or reaches) the
// registry the manifest names, gives it a private directory and log, and connects a client whose
// exchanges are filed as the case's evidence (exchanges.json). Cases add Act and Assert.
//
// Names a case registers start with prefix() (unique per execution), so the cases also work
// against a registry shared with others (a role reached at an address) and only judge their own
// entries.
#ifndef NSMCERT_CONFORMANCE_CASES_REGISTRY_REGISTRY_CASE_H_
#define NSMCERT_CONFORMANCE_CASES_REGISTRY_REGISTRY_CASE_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "conformance/cases/case.h"
#include "conformance/cases/case_context.h"
#include "conformance/cases/check.h"
#include "conformance/cases/registry/registry_client.h"
#include "conformance/cases/roles.h"
#include "conformance/cases/text.h"

namespace nsmcert::conformance::registry_cases {

class RegistryCase : public Case {
 public:
  absl::Status Arrange(CaseContext& context) override;

 protected:
  // "<prefix>-<suffix>".
  std::string Name(std::string_view suffix) const { return Cat(prefix_, "-", suffix); }
  const std::string& prefix() const { return prefix_; }
  RegistryClient& client() { return *client_; }
  RunningRole& registry() { return *registry_; }
  Transcript& transcript() { return *transcript_; }
  // A new client of the same registry (after a restart, say), replacing the current one.
  absl::Status Reconnect(CaseContext& context);

 private:
  // Declared first, destroyed last: clients and watches of derived cases go before the registry.
  std::unique_ptr<RunningRole> registry_;
  std::unique_ptr<Transcript> transcript_;
  // Clients replaced by Reconnect, kept until the end: watches opened through them use their
  // channels.
  std::vector<std::unique_ptr<RegistryClient>> retired_clients_;
  std::unique_ptr<RegistryClient> client_;
  std::string prefix_;
};

// An NSE registration with the given fields; `labels` go under the first service name.
registry::NetworkServiceEndpoint MakeNse(std::string_view name,
                                         const std::vector<std::string>& services,
                                         std::string_view url,
                                         const std::map<std::string, std::string>& labels = {});
registry::NetworkService MakeNs(std::string_view name, std::string_view payload = "");

// Checks that every field the caller set on `sent` comes back unchanged in `observed` (name,
// network_service_names, network_service_labels, url); `what` prefixes the messages. One status
// per differing field, for CaseContext::Check.
std::vector<absl::Status> CompareCallerFields(std::string_view what,
                                              const registry::NetworkServiceEndpoint& sent,
                                              const registry::NetworkServiceEndpoint& observed);

// The registry still answers: a non-watch Find for an unused name ends OK. A CaseFailure naming
// `after` otherwise.
absl::Status ExpectStillServing(RegistryClient& client, std::string_view after,
                                std::string_view unused_name);

}  // namespace nsmcert::conformance::registry_cases

#endif  // NSMCERT_CONFORMANCE_CASES_REGISTRY_REGISTRY_CASE_H_
