// results.schema.json (beside this file), compiled into the binary so `nsmcert report` and the
// tests can validate a results.json anywhere.
#ifndef NSMCERT_CONFORMANCE_REPORT_RESULTS_SCHEMA_H_
#define NSMCERT_CONFORMANCE_REPORT_RESULTS_SCHEMA_H_

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace nsmcert::conformance {

std::string_view ResultsSchemaText();

// Every violation of the results schema in `document` ("/cases/0/status: ..."); empty when it
// conforms. A schema this binary cannot parse is reported as a violation too.
std::vector<std::string> ValidateResultsJson(const nlohmann::json& document);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_RESULTS_SCHEMA_H_
