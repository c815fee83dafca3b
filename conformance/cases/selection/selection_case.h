// What the selection cases (spec §9) add to DomainCase: registering a NetworkService with
// matches through the nsmgr of node-a (its registry proxy), and Match/route builders.
#ifndef NSMCERT_CONFORMANCE_CASES_SELECTION_SELECTION_CASE_H_
#define NSMCERT_CONFORMANCE_CASES_SELECTION_SELECTION_CASE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry/registry_client.h"

namespace nsmcert::conformance::nsm_cases {

using Labels = std::map<std::string, std::string>;

// A Match with `source` as source_selector, one route per destination selector, and the flag.
registry::Match MakeMatch(const Labels& source, const std::vector<Labels>& destinations,
                          bool fallthrough = false, const Labels& metadata = {});

class SelectionCase : public DomainCase {
 protected:
  // Registers network service `name` (payload ETHERNET) with `matches` through the nsmgr of
  // node-a. A CaseFailure when the implementation refuses it.
  absl::Status RegisterService(CaseContext& context, const std::string& name,
                               const std::vector<registry::Match>& matches);
  // An endpoint for `services` with `labels`, not registering the services itself (the case
  // registers them with their matches).
  EndpointOptions Endpoint(const std::string& workload, const std::vector<std::string>& services,
                           const Labels& labels, const std::string& cidr);

 private:
  std::unique_ptr<registry_cases::RegistryClient> registry_;
};

}  // namespace nsmcert::conformance::nsm_cases

#endif  // NSMCERT_CONFORMANCE_CASES_SELECTION_SELECTION_CASE_H_
