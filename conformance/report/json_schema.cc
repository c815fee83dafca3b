#include "conformance/report/json_schema.h"

#include <cmath>
#include <regex>
#include <set>

#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

using nlohmann::json;

// Guards against a $ref cycle that never consumes input ({"$ref": "#"}-style loops).
constexpr int kMaxDepth = 64;

const std::set<std::string>& SupportedKeywords() {
  static const std::set<std::string> keywords = {"$schema",
                                                 "$id",
                                                 "title",
                                                 "description",
                                                 "$comment",
                                                 "$defs",
                                                 "$ref",
                                                 "type",
                                                 "enum",
                                                 "const",
                                                 "properties",
                                                 "required",
                                                 "additionalProperties",
                                                 "items",
                                                 "minItems",
                                                 "maxItems",
                                                 "minimum",
                                                 "maximum",
                                                 "minLength",
                                                 "maxLength",
                                                 "pattern"};
  return keywords;
}

const std::set<std::string>& TypeNames() {
  static const std::set<std::string> names = {"object",  "array",   "string", "number",
                                              "integer", "boolean", "null"};
  return names;
}

std::string EscapePointerToken(const std::string& token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

bool HasType(const json& value, const std::string& type) {
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  if (type == "string") return value.is_string();
  if (type == "number") return value.is_number();
  if (type == "integer") {
    if (value.is_number_integer()) return true;
    if (!value.is_number_float()) return false;
    const double d = value.get<double>();
    return std::isfinite(d) && std::floor(d) == d;
  }
  if (type == "boolean") return value.is_boolean();
  if (type == "null") return value.is_null();
  return false;
}

std::string Brief(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Counts code points, as JSON Schema's minLength/maxLength do.
std::size_t CodePoints(const std::string& text) {
  std::size_t count = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++count;
  }
  return count;
}

class SchemaChecker {
 public:
  explicit SchemaChecker(const json& root) : root_(root) {}

  absl::Status Check(const json& schema, const std::string& pointer) {
    if (schema.is_boolean()) return absl::OkStatus();
    if (!schema.is_object()) return Error(pointer, "a schema must be an object or a boolean");
    for (const auto& [key, value] : schema.items()) {
      const std::string at = Cat(pointer, "/", EscapePointerToken(key));
      if (SupportedKeywords().count(key) == 0) {
        return Error(at, Cat("keyword \"", key, "\" is not supported by this validator"));
      }
      absl::Status status = CheckKeyword(key, value, at);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }

 private:
  absl::Status CheckKeyword(const std::string& key, const json& value, const std::string& at) {
    if (key == "$defs" || key == "properties") {
      if (!value.is_object()) return Error(at, "must be an object of schemas");
      for (const auto& [name, sub] : value.items()) {
        if (absl::Status s = Check(sub, Cat(at, "/", EscapePointerToken(name))); !s.ok()) return s;
      }
    } else if (key == "items" || key == "additionalProperties") {
      return Check(value, at);
    } else if (key == "$ref") {
      if (!value.is_string()) return Error(at, "must be a string");
      const std::string ref = value.get<std::string>();
      if (!ref.starts_with("#/$defs/"))
        return Error(at, Cat("only \"#/$defs/<name>\" refs, not ", ref));
      const std::string name = ref.substr(8);
      const auto defs = root_.find("$defs");
      if (defs == root_.end() || !defs->is_object() || !defs->contains(name)) {
        return Error(at, Cat("\"", ref, "\" does not resolve"));
      }
    } else if (key == "type") {
      std::vector<json> types =
          value.is_array() ? value.get<std::vector<json>>() : std::vector<json>{value};
      for (const json& type : types) {
        if (!type.is_string() || TypeNames().count(type.get<std::string>()) == 0) {
          return Error(at, Cat(Brief(type), " is not a JSON Schema type"));
        }
      }
    } else if (key == "enum") {
      if (!value.is_array() || value.empty()) return Error(at, "must be a non-empty array");
    } else if (key == "required") {
      if (!value.is_array()) return Error(at, "must be an array of property names");
      for (const json& name : value) {
        if (!name.is_string()) return Error(at, "must be an array of property names");
      }
    } else if (key == "minItems" || key == "maxItems" || key == "minLength" || key == "maxLength") {
      if (!value.is_number_unsigned() && !(value.is_number_integer() && value.get<long>() >= 0)) {
        return Error(at, "must be a non-negative integer");
      }
    } else if (key == "minimum" || key == "maximum") {
      if (!value.is_number()) return Error(at, "must be a number");
    } else if (key == "pattern") {
      if (!value.is_string()) return Error(at, "must be a string");
      try {
        std::regex compiled(value.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return Error(at, Cat("invalid regular expression: ", e.what()));
      }
    } else if (key == "$schema" || key == "$id" || key == "title" || key == "description" ||
               key == "$comment") {
      if (!value.is_string()) return Error(at, "must be a string");
    }
    return absl::OkStatus();
  }

  static absl::Status Error(const std::string& pointer, const std::string& message) {
    return absl::InvalidArgumentError(
        Cat("schema ", pointer.empty() ? "/" : pointer, ": ", message));
  }

  const json& root_;
};

}  // namespace

absl::StatusOr<JsonSchema> JsonSchema::Parse(nlohmann::json schema) {
  if (absl::Status status = SchemaChecker(schema).Check(schema, ""); !status.ok()) return status;
  return JsonSchema(std::move(schema));
}

absl::StatusOr<JsonSchema> JsonSchema::ParseText(const std::string& text) {
  json schema = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) return absl::InvalidArgumentError("schema: not valid JSON");
  return Parse(std::move(schema));
}

std::vector<std::string> JsonSchema::Validate(const nlohmann::json& document) const {
  std::vector<std::string> errors;
  ValidateAt(schema_, document, "", errors, 0);
  return errors;
}

const nlohmann::json* JsonSchema::Resolve(const std::string& ref) const {
  const auto defs = schema_.find("$defs");
  if (defs == schema_.end()) return nullptr;
  const auto it = defs->find(ref.substr(8));  // after "#/$defs/"; Parse checked the prefix
  return it == defs->end() ? nullptr : &*it;
}

void JsonSchema::ValidateAt(const nlohmann::json& schema, const nlohmann::json& value,
                            const std::string& pointer, std::vector<std::string>& errors,
                            int depth) const {
  const std::string where = pointer.empty() ? "/" : pointer;
  if (depth > kMaxDepth) {
    errors.push_back(Cat(where, ": schema nesting deeper than ", kMaxDepth, " ($ref cycle?)"));
    return;
  }
  if (schema.is_boolean()) {
    if (!schema.get<bool>()) errors.push_back(Cat(where, ": no value is allowed here"));
    return;
  }
  if (const auto ref = schema.find("$ref"); ref != schema.end()) {
    if (const json* target = Resolve(ref->get<std::string>())) {
      ValidateAt(*target, value, pointer, errors, depth + 1);
    }
  }
  if (const auto type = schema.find("type"); type != schema.end()) {
    const std::vector<json> types =
        type->is_array() ? type->get<std::vector<json>>() : std::vector<json>{*type};
    bool ok = false;
    for (const json& t : types) ok = ok || HasType(value, t.get<std::string>());
    if (!ok) {
      errors.push_back(Cat(where, ": ", Brief(value), " is not of type ", type->dump()));
      return;  // the other keywords would only repeat the mismatch
    }
  }
  if (const auto constant = schema.find("const"); constant != schema.end() && value != *constant) {
    errors.push_back(Cat(where, ": ", Brief(value), " is not ", constant->dump()));
  }
  if (const auto options = schema.find("enum"); options != schema.end()) {
    bool found = false;
    for (const json& option : *options) found = found || option == value;
    if (!found)
      errors.push_back(Cat(where, ": ", Brief(value), " is not one of ", options->dump()));
  }
  if (value.is_number()) {
    const double number = value.get<double>();
    if (const auto m = schema.find("minimum"); m != schema.end() && number < m->get<double>()) {
      errors.push_back(Cat(where, ": ", Brief(value), " is less than the minimum ", m->dump()));
    }
    if (const auto m = schema.find("maximum"); m != schema.end() && number > m->get<double>()) {
      errors.push_back(Cat(where, ": ", Brief(value), " is more than the maximum ", m->dump()));
    }
  }
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    const std::size_t length = CodePoints(text);
    if (const auto m = schema.find("minLength");
        m != schema.end() && length < m->get<std::size_t>()) {
      errors.push_back(Cat(where, ": ", Brief(value), " is shorter than ", m->dump()));
    }
    if (const auto m = schema.find("maxLength");
        m != schema.end() && length > m->get<std::size_t>()) {
      errors.push_back(Cat(where, ": ", Brief(value), " is longer than ", m->dump()));
    }
    if (const auto p = schema.find("pattern"); p != schema.end()) {
      const std::regex pattern(p->get<std::string>(), std::regex::ECMAScript);
      if (!std::regex_search(text, pattern)) {
        errors.push_back(Cat(where, ": ", Brief(value), " does not match ", p->dump()));
      }
    }
  }
  if (value.is_array()) {
    if (const auto m = schema.find("minItems");
        m != schema.end() && value.size() < m->get<std::size_t>()) {
      errors.push_back(Cat(where, ": has ", value.size(), " items, fewer than ", m->dump()));
    }
    if (const auto m = schema.find("maxItems");
        m != schema.end() && value.size() > m->get<std::size_t>()) {
      errors.push_back(Cat(where, ": has ", value.size(), " items, more than ", m->dump()));
    }
    if (const auto items = schema.find("items"); items != schema.end()) {
      for (std::size_t i = 0; i < value.size(); ++i) {
        ValidateAt(*items, value[i], Cat(pointer, "/", i), errors, depth + 1);
      }
    }
  }
  if (value.is_object()) {
    if (const auto required = schema.find("required"); required != schema.end()) {
      for (const json& name : *required) {
        if (!value.contains(name.get<std::string>())) {
          errors.push_back(
              Cat(where, ": required property \"", name.get<std::string>(), "\" is missing"));
        }
      }
    }
    const auto properties = schema.find("properties");
    const auto additional = schema.find("additionalProperties");
    for (const auto& [key, member] : value.items()) {
      const std::string at = Cat(pointer, "/", EscapePointerToken(key));
      if (properties != schema.end() && properties->contains(key)) {
        ValidateAt((*properties)[key], member, at, errors, depth + 1);
      } else if (additional != schema.end()) {
        if (additional->is_boolean() && !additional->get<bool>()) {
          errors.push_back(Cat(where, ": property \"", key, "\" is not allowed"));
        } else {
          ValidateAt(*additional, member, at, errors, depth + 1);
        }
      }
    }
  }
}

}  // namespace nsmcert::conformance
