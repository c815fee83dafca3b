// A JSON Schema validator for the subset of draft 2020-12 that nsmcert's own schemas use
// (results.schema.json, fixtures/manifests/manifest.schema.json), so results can be checked
// without a Python or third-party dependency.
//
// Supported keywords: type, enum, const, properties, required, additionalProperties (boolean or
// schema), items (one schema), minItems, maxItems, minimum, maximum, minLength, maxLength, pattern
// (ECMAScript regex, searched), $ref to "#/$defs/<name>", and the annotations $schema, $id,
// title, description, $comment, $defs. Parse rejects any other keyword, so a schema cannot use a
// constraint this validator would silently ignore.
#ifndef NSMCERT_CONFORMANCE_REPORT_JSON_SCHEMA_H_
#define NSMCERT_CONFORMANCE_REPORT_JSON_SCHEMA_H_

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace nsmcert::conformance {

class JsonSchema {
 public:
  // INVALID_ARGUMENT naming the JSON pointer of an unsupported keyword, a malformed value or a
  // $ref that does not resolve.
  static absl::StatusOr<JsonSchema> Parse(nlohmann::json schema);
  static absl::StatusOr<JsonSchema> ParseText(const std::string& text);

  // Every violation, as "<JSON pointer>: <what is wrong>" ("/cases/3/status: \"passed\" is not
  // one of [...]"); empty when `document` conforms.
  std::vector<std::string> Validate(const nlohmann::json& document) const;

 private:
  explicit JsonSchema(nlohmann::json schema) : schema_(std::move(schema)) {}
  void ValidateAt(const nlohmann::json& schema, const nlohmann::json& value,
                  const std::string& pointer, std::vector<std::string>& errors, int depth) const;
  const nlohmann::json* Resolve(const std::string& ref) const;

  nlohmann::json schema_;
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_REPORT_JSON_SCHEMA_H_
