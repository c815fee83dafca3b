#include "conformance/runner/manifest.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "conformance/cases/features.h"
#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

SourceLocation LocationOf(const std::string& file, const YAML::Mark& mark) {
  SourceLocation location;
  location.file = file;
  if (mark.line >= 0) {
    location.line = mark.line + 1;
    location.column = mark.column + 1;
  }
  return location;
}

absl::Status ErrorAt(const SourceLocation& location, std::string_view path,
                     std::string_view message) {
  std::string text = location.ToString();
  if (!text.empty()) text += ": ";
  if (!path.empty()) Append(text, path, ": ");
  Append(text, message);
  return absl::InvalidArgumentError(text);
}

bool IsTemplateName(std::string_view name) {
  return std::any_of(std::begin(kTemplateVariables), std::end(kTemplateVariables),
                     [&](const TemplateVariable& v) { return v.name == name; });
}

std::string KnownTemplateNames() {
  std::vector<std::string> names;
  for (const TemplateVariable& v : kTemplateVariables) names.push_back(Cat("{", v.name, "}"));
  return Join(names, ", ");
}

bool IsEnvName(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Walks a template, calling on_literal for text and on_variable for each {name}. Stops at the
// first error.
template <class OnLiteral, class OnVariable>
absl::Status WalkTemplate(std::string_view text, OnLiteral on_literal, OnVariable on_variable) {
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
      on_literal("{");
      i += 2;
    } else if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
      on_literal("}");
      i += 2;
    } else if (c == '{') {
      const std::size_t close = text.find('}', i + 1);
      if (close == std::string_view::npos) {
        return absl::InvalidArgumentError(
            Cat("unclosed '{' at offset ", i, " in \"", text, "\" (write {{ for a literal brace)"));
      }
      const std::string_view name = text.substr(i + 1, close - i - 1);
      if (name.empty() || name.find('{') != std::string_view::npos) {
        return absl::InvalidArgumentError(
            Cat("malformed template variable at offset ", i, " in \"", text, "\""));
      }
      if (absl::Status status = on_variable(name); !status.ok()) return status;
      i = close + 1;
    } else if (c == '}') {
      return absl::InvalidArgumentError(
          Cat("unmatched '}' at offset ", i, " in \"", text, "\" (write }} for a literal brace)"));
    } else {
      const std::size_t next = text.find_first_of("{}", i);
      const std::size_t end = next == std::string_view::npos ? text.size() : next;
      on_literal(text.substr(i, end - i));
      i = end;
    }
  }
  return absl::OkStatus();
}

class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  absl::StatusOr<Manifest> Read(const YAML::Node& root) {
    Manifest manifest;
    manifest.source = file_;
    for (Role role : kAllRoles) {
      RoleSpec& spec = manifest.roles[static_cast<std::size_t>(role)];
      spec.role = role;
    }
    if (!root.IsDefined() || root.IsNull()) {
      return ErrorAt(Location(root), "",
                     "empty manifest: expected a map with vendor, product, version, roles and "
                     "features");
    }
    if (auto status = CheckMap(
            root, "", {"vendor", "product", "version", "description", "roles", "features"});
        !status.ok()) {
      return status;
    }
    for (auto [key, field] :
         {std::pair{"vendor", &manifest.vendor}, std::pair{"product", &manifest.product},
          std::pair{"version", &manifest.version}}) {
      const YAML::Node node = root[key];
      if (!node) {
        return ErrorAt(Location(root), "", Cat("missing required key \"", key, "\""));
      }
      auto text = NonEmptyScalar(node, key);
      if (!text.ok()) return text.status();
      *field = *text;
    }
    if (const YAML::Node node = root["description"]) {
      auto text = Scalar(node, "description");
      if (!text.ok()) return text.status();
      manifest.description = *text;
    }
    if (const YAML::Node roles = root["roles"]) {
      if (auto status = ReadRoles(roles, manifest); !status.ok()) return status;
    }
    if (const YAML::Node features = root["features"]) {
      if (auto status = ReadFeatures(features, manifest); !status.ok()) return status;
    }
    return manifest;
  }

 private:
  SourceLocation Location(const YAML::Node& node) const { return LocationOf(file_, node.Mark()); }

  absl::Status CheckMap(const YAML::Node& node, std::string_view path,
                        std::initializer_list<std::string_view> allowed) {
    const std::string allowed_text = Join(allowed, ", ");
    if (!node.IsMap()) {
      return ErrorAt(Location(node), path, Cat("must be a map with keys ", allowed_text));
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return ErrorAt(Location(key), path,
                       Cat("unknown key \"", name, "\" (expected one of: ", allowed_text, ")"));
      }
      if (!seen.insert(name).second) {
        return ErrorAt(Location(key), path, Cat("key \"", name, "\" given twice"));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Scalar(const YAML::Node& node, std::string_view path) {
    if (!node.IsScalar()) return ErrorAt(Location(node), path, "must be a plain value");
    return node.Scalar();
  }

  absl::StatusOr<std::string> NonEmptyScalar(const YAML::Node& node, std::string_view path) {
    auto text = Scalar(node, path);
    if (!text.ok()) return text.status();
    if (text->empty()) return ErrorAt(Location(node), path, "must not be empty");
    return text;
  }

  absl::StatusOr<std::string> TemplateScalar(const YAML::Node& node, std::string_view path) {
    auto text = NonEmptyScalar(node, path);
    if (!text.ok()) return text.status();
    if (absl::Status status = CheckTemplate(*text); !status.ok()) {
      return ErrorAt(Location(node), path, std::string(status.message()));
    }
    return text;
  }

  absl::Status ReadRoles(const YAML::Node& roles, Manifest& manifest) {
    if (!roles.IsMap()) {
      return ErrorAt(Location(roles), "roles",
                     "must be a map from role (registry, nsmgr, forwarder, nse, nsc) to its "
                     "implementation");
    }
    std::set<std::string> seen;
    for (const auto& entry : roles) {
      const YAML::Node& key = entry.first;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      const std::optional<Role> role = ParseRole(name);
      if (!role.has_value()) {
        return ErrorAt(Location(key), "roles",
                       Cat("unknown role \"", name,
                           "\" (expected one of: registry, nsmgr, forwarder, nse, nsc)"));
      }
      if (!seen.insert(name).second) {
        return ErrorAt(Location(key), "roles", Cat("role \"", name, "\" given twice"));
      }
      RoleSpec& spec = manifest.roles[static_cast<std::size_t>(*role)];
      if (auto status = ReadRole(entry.second, Cat("roles.", name), spec); !status.ok()) {
        return status;
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadRole(const YAML::Node& node, const std::string& path, RoleSpec& spec) {
    spec.declared = true;
    spec.location = Location(node);
    if (auto status = CheckMap(node, path,
                               {"implementation", "command", "env", "address", "startup_timeout"});
        !status.ok()) {
      return status;
    }
    const YAML::Node implementation = node["implementation"];
    if (!implementation) {
      return ErrorAt(Location(node), path,
                     "missing required key \"implementation\" (reference or external)");
    }
    auto implementation_text = Scalar(implementation, path + ".implementation");
    if (!implementation_text.ok()) return implementation_text.status();
    if (*implementation_text == "reference") {
      spec.implementation = Implementation::kReference;
      for (const char* key : {"command", "env", "address", "startup_timeout"}) {
        if (node[key]) {
          return ErrorAt(Location(node[key]), Cat(path, ".", key),
                         "only an external implementation takes this key");
        }
      }
      return absl::OkStatus();
    }
    if (*implementation_text != "external") {
      return ErrorAt(Location(implementation), path + ".implementation",
                     Cat("\"", *implementation_text, "\" is neither reference nor external"));
    }
    spec.implementation = Implementation::kExternal;

    const YAML::Node command = node["command"];
    const YAML::Node address = node["address"];
    if (command && address) {
      return ErrorAt(Location(address), path + ".address",
                     "give either command (the harness starts it) or address (it already runs), "
                     "not both");
    }
    if (!command && !address) {
      return ErrorAt(Location(node), path,
                     "an external role needs command (the harness starts it) or address (it "
                     "already runs)");
    }
    if (command) {
      if (auto status = ReadCommand(command, path + ".command", spec); !status.ok()) return status;
    } else {
      auto text = TemplateScalar(address, path + ".address");
      if (!text.ok()) return text.status();
      if (!(text->starts_with("unix://") || text->starts_with("tcp://"))) {
        return ErrorAt(Location(address), path + ".address",
                       Cat("\"", *text, "\" must be a unix:///path or tcp://host:port URL"));
      }
      spec.address = *text;
      if (node["env"]) {
        return ErrorAt(Location(node["env"]), path + ".env",
                       "env is for a role the harness starts (command), not for an address");
      }
    }
    if (const YAML::Node env = node["env"]) {
      if (!env.IsMap()) {
        return ErrorAt(Location(env), path + ".env", "must be a map of NAME: value");
      }
      for (const auto& entry : env) {
        const std::string name = entry.first.IsScalar() ? entry.first.Scalar() : "";
        const std::string entry_path = Cat(path, ".env.", name);
        if (!IsEnvName(name)) {
          return ErrorAt(Location(entry.first), path + ".env",
                         Cat("\"", name, "\" is not a valid environment variable name"));
        }
        if (spec.env.count(name) != 0) {
          return ErrorAt(Location(entry.first), path + ".env", Cat("\"", name, "\" given twice"));
        }
        auto value = Scalar(entry.second, entry_path);
        if (!value.ok()) return value.status();
        if (absl::Status status = CheckTemplate(*value); !status.ok()) {
          return ErrorAt(Location(entry.second), entry_path, std::string(status.message()));
        }
        spec.env[name] = *value;
      }
    }
    if (const YAML::Node timeout = node["startup_timeout"]) {
      auto text = NonEmptyScalar(timeout, path + ".startup_timeout");
      if (!text.ok()) return text.status();
      absl::Duration duration;
      if (!absl::ParseDuration(*text, &duration) || duration <= absl::ZeroDuration()) {
        return ErrorAt(Location(timeout), path + ".startup_timeout",
                       Cat("\"", *text, "\" is not a positive duration such as 30s or 1500ms"));
      }
      spec.startup_timeout = duration;
    }
    return absl::OkStatus();
  }

  absl::Status ReadCommand(const YAML::Node& command, const std::string& path, RoleSpec& spec) {
    if (command.IsScalar()) {
      auto text = TemplateScalar(command, path);
      if (!text.ok()) return text.status();
      spec.command = {"/bin/sh", "-c", *text};
      spec.shell = true;
      return absl::OkStatus();
    }
    if (!command.IsSequence() || command.size() == 0) {
      return ErrorAt(Location(command), path,
                     "must be a non-empty list (argv) or a string (run with /bin/sh -c)");
    }
    for (std::size_t i = 0; i < command.size(); ++i) {
      const std::string element_path = Cat(path, "[", i, "]");
      auto text =
          i == 0 ? TemplateScalar(command[i], element_path) : Scalar(command[i], element_path);
      if (!text.ok()) return text.status();
      if (absl::Status status = CheckTemplate(*text); !status.ok()) {
        return ErrorAt(Location(command[i]), element_path, std::string(status.message()));
      }
      spec.command.push_back(*text);
    }
    return absl::OkStatus();
  }

  absl::Status ReadFeatures(const YAML::Node& features, Manifest& manifest) {
    if (!features.IsSequence()) {
      return ErrorAt(Location(features), "features", "must be a list of feature names");
    }
    std::set<std::string> seen;
    for (std::size_t i = 0; i < features.size(); ++i) {
      const std::string path = Cat("features[", i, "]");
      auto name = NonEmptyScalar(features[i], path);
      if (!name.ok()) return name.status();
      if (!IsKnownFeature(*name)) {
        std::vector<std::string_view> known;
        for (const FeatureInfo& feature : KnownFeatures()) known.push_back(feature.name);
        return ErrorAt(Location(features[i]), path,
                       Cat("unknown feature \"", *name, "\" (known: ", Join(known, ", "), ")"));
      }
      if (!seen.insert(*name).second) {
        return ErrorAt(Location(features[i]), path, Cat("\"", *name, "\" listed twice"));
      }
    }
    manifest.features.assign(seen.begin(), seen.end());
    return absl::OkStatus();
  }

  std::string file_;
};

}  // namespace

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kRegistry:
      return "registry";
    case Role::kNsmgr:
      return "nsmgr";
    case Role::kForwarder:
      return "forwarder";
    case Role::kNse:
      return "nse";
    case Role::kNsc:
      return "nsc";
  }
  return "?";
}

std::optional<Role> ParseRole(std::string_view text) {
  for (Role role : kAllRoles) {
    if (RoleName(role) == text) return role;
  }
  return std::nullopt;
}

std::string_view ImplementationName(Implementation implementation) {
  return implementation == Implementation::kReference ? "reference" : "external";
}

std::string SourceLocation::ToString() const {
  if (file.empty() && line == 0) return "";
  if (line == 0) return file;
  return Cat(file, ":", line, ":", column);
}

bool Manifest::Claims(std::string_view feature) const {
  return std::binary_search(features.begin(), features.end(), feature);
}

std::vector<std::string> Manifest::MissingFeatures(const std::vector<std::string>& required) const {
  std::vector<std::string> missing;
  for (const std::string& feature : required) {
    if (!Claims(feature)) missing.push_back(feature);
  }
  return missing;
}

absl::StatusOr<Manifest> ParseManifest(std::string_view yaml_text, std::string_view source_name) {
  const std::string file(source_name);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return ErrorAt(LocationOf(file, e.mark), "", Cat("invalid YAML: ", e.msg));
  }
  try {
    return Reader(file).Read(root);
  } catch (const YAML::Exception& e) {
    // yaml-cpp throws on some shapes (say, indexing a scalar); report it where it happened.
    return ErrorAt(LocationOf(file, e.mark), "", e.msg);
  }
}

absl::StatusOr<Manifest> LoadManifestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(Cat(path, ": cannot read the manifest file"));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return absl::NotFoundError(Cat(path, ": error while reading the manifest file"));
  return ParseManifest(text.str(), path);
}

absl::StatusOr<std::string> ExpandTemplate(std::string_view text,
                                           const std::map<std::string, std::string>& values) {
  std::string out;
  absl::Status status = WalkTemplate(
      text, [&](std::string_view literal) { out.append(literal); },
      [&](std::string_view name) {
        const auto it = values.find(std::string(name));
        if (it == values.end()) {
          return absl::InvalidArgumentError(
              Cat("no value for template variable {", name, "} in \"", text, "\""));
        }
        out.append(it->second);
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  return out;
}

absl::Status CheckTemplate(std::string_view text) {
  return WalkTemplate(
      text, [](std::string_view) {},
      [&](std::string_view name) {
        if (IsTemplateName(name)) return absl::OkStatus();
        return absl::InvalidArgumentError(Cat("unknown template variable {", name, "} in \"", text,
                                              "\" (known: ", KnownTemplateNames(), ")"));
      });
}

}  // namespace nsmcert::conformance
