#include "conformance/report/results_schema.h"

#include "conformance/report/json_schema.h"
#include "conformance/report/results_schema_text.h"

namespace nsmcert::conformance {

std::string_view ResultsSchemaText() { return kResultsSchemaJson; }

std::vector<std::string> ValidateResultsJson(const nlohmann::json& document) {
  static const absl::StatusOr<JsonSchema>* const schema =
      new absl::StatusOr<JsonSchema>(JsonSchema::ParseText(std::string(kResultsSchemaJson)));
  if (!schema->ok()) return {std::string(schema->status().message())};
  return (*schema)->Validate(document);
}

}  // namespace nsmcert::conformance
