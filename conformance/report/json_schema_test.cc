#include "conformance/report/json_schema.h"

#include <gtest/gtest.h>

namespace nsmcert::conformance {
namespace {

using nlohmann::json;

JsonSchema Schema(const char* text) {
  absl::StatusOr<JsonSchema> schema = JsonSchema::ParseText(text);
  EXPECT_TRUE(schema.ok()) << schema.status();
  return *std::move(schema);
}

TEST(JsonSchemaTest, RejectsKeywordsItCannotCheck) {
  const auto status = JsonSchema::ParseText(R"({"oneOf": [{"type": "string"}]})").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("/oneOf: keyword \"oneOf\" is not supported"),
            absl::string_view::npos)
      << status;
  EXPECT_FALSE(JsonSchema::ParseText(R"({"properties": {"a": {"$ref": "#/$defs/x"}}})").ok());
  EXPECT_FALSE(JsonSchema::ParseText(R"({"$ref": "other.json#/x"})").ok());
  EXPECT_FALSE(JsonSchema::ParseText(R"({"type": "text"})").ok());
  EXPECT_FALSE(JsonSchema::ParseText(R"({"pattern": "("})").ok());
  EXPECT_FALSE(JsonSchema::ParseText("{").ok());
}

TEST(JsonSchemaTest, ChecksTypesIncludingIntegralFloats) {
  const JsonSchema schema = Schema(R"({"type": "integer"})");
  EXPECT_TRUE(schema.Validate(json(3)).empty());
  EXPECT_TRUE(schema.Validate(json(3.0)).empty());
  EXPECT_EQ(schema.Validate(json(3.5)),
            std::vector<std::string>{"/: 3.5 is not of type \"integer\""});
  EXPECT_EQ(schema.Validate(json("3")).size(), 1u);
  const JsonSchema either = Schema(R"({"type": ["string", "null"]})");
  EXPECT_TRUE(either.Validate(json(nullptr)).empty());
  EXPECT_FALSE(either.Validate(json(true)).empty());
}

TEST(JsonSchemaTest, ChecksObjectsArraysAndRefs) {
  const JsonSchema schema = Schema(R"({
    "type": "object",
    "required": ["id", "tags"],
    "additionalProperties": false,
    "properties": {
      "id": {"$ref": "#/$defs/id"},
      "tags": {"type": "array", "minItems": 1, "maxItems": 2, "items": {"enum": ["a", "b"]}},
      "extra": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0,
                                                           "maximum": 10}},
      "name": {"type": "string", "minLength": 2, "maxLength": 3},
      "kind": {"const": "x"}
    },
    "$defs": {"id": {"type": "string", "pattern": "^[A-Z]+-[0-9]{3}$"}}
  })");
  EXPECT_TRUE(schema.Validate(json::parse(R"({"id": "REG-001", "tags": ["a"]})")).empty());
  const std::vector<std::string> errors = schema.Validate(json::parse(R"({
    "id": "reg-1", "tags": ["a", "c", "b"], "extra": {"x": -1, "y": 11, "z": 5},
    "name": "é", "kind": "y", "other": 1})"));
  const std::vector<std::string> expected = {
      "/extra/x: -1 is less than the minimum 0",
      "/extra/y: 11 is more than the maximum 10",
      "/id: \"reg-1\" does not match \"^[A-Z]+-[0-9]{3}$\"",
      "/kind: \"y\" is not \"x\"",
      "/name: \"é\" is shorter than 2",
      "/: property \"other\" is not allowed",
      "/tags: has 3 items, more than 2",
      "/tags/1: \"c\" is not one of [\"a\",\"b\"]",
  };
  EXPECT_EQ(errors, expected);
  EXPECT_EQ(schema.Validate(json::parse(R"({"id": "REG-001"})")),
            std::vector<std::string>{"/: required property \"tags\" is missing"});
  EXPECT_EQ(schema.Validate(json::parse(R"({"id": "REG-001", "tags": []})")),
            std::vector<std::string>{"/tags: has 0 items, fewer than 1"});
}

TEST(JsonSchemaTest, FalseSchemaAllowsNothing) {
  const JsonSchema schema = Schema(R"({"properties": {"never": false}})");
  EXPECT_TRUE(schema.Validate(json::parse("{}")).empty());
  EXPECT_EQ(schema.Validate(json::parse(R"({"never": 1})")),
            std::vector<std::string>{"/never: no value is allowed here"});
}

TEST(JsonSchemaTest, RefCycleIsReportedNotFollowedForever) {
  const JsonSchema schema =
      Schema(R"({"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}})");
  const std::vector<std::string> errors = schema.Validate(json(1));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("cycle"), std::string::npos);
}

}  // namespace
}  // namespace nsmcert::conformance
