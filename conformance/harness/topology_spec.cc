#include "conformance/harness/topology_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>

#include "conformance/harness/str_util.h"

namespace nsmcert::harness {
namespace {

constexpr int kMinMtu = 1280;  // IPv6 minimum; also plenty for IPv4 underlays
constexpr int kMaxMtu = 65535;

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
  if (!path.empty()) internal::Append(&text, path, ": ");
  internal::Append(&text, message);
  return absl::InvalidArgumentError(text);
}

// Why `name` is not a valid element name, or nullopt when it is.
std::optional<std::string> NameProblem(std::string_view name, std::size_t max_length,
                                       std::string_view why_limit) {
  if (name.empty()) return "must not be empty";
  if (name.size() > max_length) {
    return internal::Cat("\"", name, "\" is ", name.size(), " bytes; at most ", max_length,
                         " allowed (", why_limit, ")");
  }
  if (!(name[0] >= 'a' && name[0] <= 'z')) {
    return internal::Cat("\"", name, "\" must start with a lowercase letter");
  }
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
      return internal::Cat("\"", name, "\" may hold only a-z, 0-9 and '-'");
    }
  }
  if (name.back() == '-') return internal::Cat("\"", name, "\" must not end with '-'");
  return std::nullopt;
}

// Reads the YAML tree into a TopologySpec, checking shapes and scalar syntax. Semantic checks
// (uniqueness, subnet membership, lengths) are ValidateTopology's.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  absl::StatusOr<TopologySpec> Read(const YAML::Node& root) {
    TopologySpec spec;
    spec.source = file_;
    spec.location = Location(root);
    if (root.IsNull() || !root.IsDefined()) {
      return ErrorAt(spec.location, "", "empty topology: expected a map with fabric and nodes");
    }
    if (auto status = CheckMap(root, "", {"name", "fabric", "nodes"}); !status.ok()) return status;

    if (const YAML::Node name = root["name"]) {
      auto text = Scalar(name, "name");
      if (!text.ok()) return text.status();
      spec.name = *text;
    } else {
      spec.name = std::filesystem::path(file_).stem().string();
    }

    const YAML::Node fabric = root["fabric"];
    if (!fabric) return ErrorAt(spec.location, "", "missing required key \"fabric\"");
    if (auto status = ReadFabric(fabric, spec.fabric); !status.ok()) return status;

    const YAML::Node nodes = root["nodes"];
    if (!nodes) return ErrorAt(spec.location, "", "missing required key \"nodes\"");
    if (!nodes.IsSequence()) return ErrorAt(Location(nodes), "nodes", "must be a list of nodes");
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      NodeSpec node;
      if (auto status = ReadNode(nodes[i], internal::Cat("nodes[", i, "]"), node); !status.ok()) {
        return status;
      }
      spec.nodes.push_back(std::move(node));
    }
    return spec;
  }

 private:
  SourceLocation Location(const YAML::Node& node) const { return LocationOf(file_, node.Mark()); }

  // `node` must be a map whose keys are all in `allowed`, each once.
  absl::Status CheckMap(const YAML::Node& node, std::string_view path,
                        std::initializer_list<std::string_view> allowed) {
    if (!node.IsMap()) {
      return ErrorAt(Location(node), path,
                     internal::Cat("must be a map with keys ", internal::Join(allowed, ", ")));
    }
    std::set<std::string> seen;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      const std::string name = key.IsScalar() ? key.Scalar() : "";
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        return ErrorAt(Location(key), path,
                       internal::Cat("unknown key \"", name,
                                     "\" (expected one of: ", internal::Join(allowed, ", "), ")"));
      }
      if (!seen.insert(name).second) {
        return ErrorAt(Location(key), path, internal::Cat("duplicate key \"", name, "\""));
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> Scalar(const YAML::Node& node, std::string_view path) {
    if (!node.IsScalar()) return ErrorAt(Location(node), path, "must be a single value");
    return node.Scalar();
  }

  absl::StatusOr<std::string> Required(const YAML::Node& map, std::string_view key,
                                       std::string_view path) {
    const YAML::Node value = map[std::string(key)];
    if (!value) {
      return ErrorAt(Location(map), path, internal::Cat("missing required key \"", key, "\""));
    }
    return Scalar(value, internal::Cat(path, path.empty() ? "" : ".", key));
  }

  absl::Status ReadFabric(const YAML::Node& node, FabricSpec& fabric) {
    fabric.location = Location(node);
    if (auto status = CheckMap(node, "fabric", {"underlay", "mtu"}); !status.ok()) return status;
    auto underlay = Required(node, "underlay", "fabric");
    if (!underlay.ok()) return underlay.status();
    fabric.underlay_location = Location(node["underlay"]);
    auto prefix = kernel::IpPrefix::Parse(*underlay, "fabric.underlay");
    if (!prefix.ok()) {
      return ErrorAt(fabric.underlay_location, "", std::string(prefix.status().message()));
    }
    fabric.underlay = *prefix;
    if (const YAML::Node mtu = node["mtu"]) {
      fabric.mtu_location = Location(mtu);
      auto text = Scalar(mtu, "fabric.mtu");
      if (!text.ok()) return text.status();
      int value = 0;
      const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
      if (text->empty() || error != std::errc() || end != text->data() + text->size()) {
        return ErrorAt(fabric.mtu_location, "fabric.mtu",
                       internal::Cat("\"", *text, "\" is not a whole number"));
      }
      fabric.mtu = value;
    }
    return absl::OkStatus();
  }

  absl::Status ReadNode(const YAML::Node& node, const std::string& path, NodeSpec& spec) {
    spec.location = Location(node);
    if (auto status = CheckMap(node, path, {"name", "address", "workloads"}); !status.ok()) {
      return status;
    }
    auto name = Required(node, "name", path);
    if (!name.ok()) return name.status();
    spec.name = *name;
    spec.name_location = Location(node["name"]);
    auto address_text = Required(node, "address", path);
    if (!address_text.ok()) return address_text.status();
    spec.address_location = Location(node["address"]);
    auto address = kernel::IpAddress::Parse(*address_text, path + ".address");
    if (!address.ok()) {
      return ErrorAt(spec.address_location, "", std::string(address.status().message()));
    }
    spec.address = *address;
    if (const YAML::Node workloads = node["workloads"]) {
      if (!workloads.IsSequence()) {
        return ErrorAt(Location(workloads), path + ".workloads", "must be a list of workloads");
      }
      for (std::size_t i = 0; i < workloads.size(); ++i) {
        WorkloadSpec workload;
        const std::string workload_path = internal::Cat(path, ".workloads[", i, "]");
        if (auto status = ReadWorkload(workloads[i], workload_path, workload); !status.ok()) {
          return status;
        }
        spec.workloads.push_back(std::move(workload));
      }
    }
    return absl::OkStatus();
  }

  absl::Status ReadWorkload(const YAML::Node& node, const std::string& path, WorkloadSpec& spec) {
    spec.location = Location(node);
    if (auto status = CheckMap(node, path, {"name", "role"}); !status.ok()) return status;
    auto name = Required(node, "name", path);
    if (!name.ok()) return name.status();
    spec.name = *name;
    spec.name_location = Location(node["name"]);
    if (const YAML::Node role = node["role"]) {
      auto text = Scalar(role, path + ".role");
      if (!text.ok()) return text.status();
      if (*text == "nsc") {
        spec.role = WorkloadRole::kNsc;
      } else if (*text == "nse") {
        spec.role = WorkloadRole::kNse;
      } else {
        return ErrorAt(Location(role), path + ".role",
                       internal::Cat("unknown role \"", *text, "\" (expected nsc or nse)"));
      }
    }
    return absl::OkStatus();
  }

  std::string file_;
};

}  // namespace

std::string FabricLinkName(std::string_view node) { return internal::Cat(kFabricLinkPrefix, node); }

std::string SourceLocation::ToString() const {
  if (line <= 0) return file;
  return internal::Cat(file, ":", line, ":", column);
}

std::string_view WorkloadRoleName(WorkloadRole role) {
  switch (role) {
    case WorkloadRole::kNsc:
      return "nsc";
    case WorkloadRole::kNse:
      return "nse";
    case WorkloadRole::kUnspecified:
      break;
  }
  return "";
}

const NodeSpec* TopologySpec::FindNode(std::string_view name) const {
  for (const NodeSpec& node : nodes) {
    if (node.name == name) return &node;
  }
  return nullptr;
}

const WorkloadSpec* TopologySpec::FindWorkload(std::string_view name, const NodeSpec** node) const {
  for (const NodeSpec& candidate : nodes) {
    for (const WorkloadSpec& workload : candidate.workloads) {
      if (workload.name == name) {
        if (node != nullptr) *node = &candidate;
        return &workload;
      }
    }
  }
  return nullptr;
}

absl::StatusOr<TopologySpec> ParseTopology(std::string_view yaml_text,
                                           std::string_view source_name) {
  const std::string source(source_name);
  YAML::Node root;
  // yaml-cpp reports syntax errors by throwing; they stop here and become a status.
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return ErrorAt(LocationOf(source, error.mark), "", error.msg);
  }
  absl::StatusOr<TopologySpec> spec;
  try {
    spec = Reader(source).Read(root);
  } catch (const YAML::Exception& error) {
    return ErrorAt(LocationOf(source, error.mark), "", error.msg);
  }
  if (!spec.ok()) return spec.status();
  if (auto status = ValidateTopology(*spec); !status.ok()) return status;
  return spec;
}

absl::StatusOr<TopologySpec> LoadTopologyFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(internal::Cat("cannot read topology file ", path));
  std::stringstream content;
  content << file.rdbuf();
  return ParseTopology(content.str(), path);
}

namespace {

// The last address of `prefix` (host bits all set): the IPv4 broadcast address.
kernel::IpAddress LastAddress(const kernel::IpPrefix& prefix) {
  kernel::IpAddress last = prefix.address;
  for (int bit = prefix.length; bit < last.bits(); ++bit) {
    last.bytes[bit / 8] |= static_cast<std::uint8_t>(0x80u >> (bit % 8));
  }
  return last;
}

// The most precise location known: the field's own, else its parent's.
const SourceLocation& Best(const SourceLocation& field, const SourceLocation& parent) {
  return field.line > 0 ? field : parent;
}

}  // namespace

absl::Status ValidateTopology(const TopologySpec& spec) {
  const SourceLocation top =
      spec.location.file.empty() ? SourceLocation{spec.source} : spec.location;
  if (auto problem = NameProblem(spec.name, 64, "topology names label reports")) {
    return ErrorAt(top, "name", *problem);
  }

  const FabricSpec& fabric = spec.fabric;
  const kernel::IpPrefix network = fabric.underlay.Network();
  const SourceLocation& underlay_at = Best(fabric.underlay_location, fabric.location);
  if (network.address != fabric.underlay.address) {
    return ErrorAt(underlay_at, "fabric.underlay",
                   internal::Cat(fabric.underlay.ToString(), " has host bits set; did you mean ",
                                 network.ToString(), "?"));
  }
  // Two nodes need two host addresses.
  const int max_length = fabric.underlay.address.bits() - 2;
  if (fabric.underlay.length > max_length) {
    return ErrorAt(underlay_at, "fabric.underlay",
                   internal::Cat(fabric.underlay.ToString(), " is too small; use a prefix of /",
                                 max_length, " or shorter"));
  }
  if (fabric.mtu < kMinMtu || fabric.mtu > kMaxMtu) {
    return ErrorAt(Best(fabric.mtu_location, fabric.location), "fabric.mtu",
                   internal::Cat(fabric.mtu, " is outside ", kMinMtu, "..", kMaxMtu));
  }

  if (spec.nodes.empty()) return ErrorAt(top, "nodes", "at least one node is required");

  std::map<std::string, std::string> element_paths;  // name -> path of its first use
  element_paths.emplace(std::string(kFabricElementName), "the fabric namespace (reserved)");
  std::map<std::string, std::string> address_paths;
  const std::string max_node_reason =
      internal::Cat("its fabric link \"", kFabricLinkPrefix, "<node>\" must fit ",
                    kMaxInterfaceNameLength, " bytes");
  for (std::size_t i = 0; i < spec.nodes.size(); ++i) {
    const NodeSpec& node = spec.nodes[i];
    const std::string path = internal::Cat("nodes[", i, "]");
    if (auto problem = NameProblem(node.name, kMaxNodeNameLength, max_node_reason)) {
      return ErrorAt(Best(node.name_location, node.location), path + ".name", *problem);
    }
    if (auto [it, added] = element_paths.emplace(node.name, path + ".name"); !added) {
      return ErrorAt(Best(node.name_location, node.location), path + ".name",
                     internal::Cat("\"", node.name, "\" is already used by ", it->second));
    }

    const SourceLocation& at = Best(node.address_location, node.location);
    const std::string address = node.address.ToString();
    if (!fabric.underlay.Contains(node.address)) {
      return ErrorAt(
          at, path + ".address",
          internal::Cat(address, " is outside the underlay subnet ", fabric.underlay.ToString()));
    }
    if (node.address == network.address) {
      return ErrorAt(
          at, path + ".address",
          internal::Cat(address, " is the network address of ", fabric.underlay.ToString()));
    }
    if (node.address.family == kernel::IpFamily::kV4 && node.address == LastAddress(network)) {
      return ErrorAt(
          at, path + ".address",
          internal::Cat(address, " is the broadcast address of ", fabric.underlay.ToString()));
    }
    if (auto [it, added] = address_paths.emplace(address, path + ".address"); !added) {
      return ErrorAt(at, path + ".address",
                     internal::Cat(address, " is already used by ", it->second));
    }

    for (std::size_t j = 0; j < node.workloads.size(); ++j) {
      const WorkloadSpec& workload = node.workloads[j];
      const std::string workload_path = internal::Cat(path, ".workloads[", j, "].name");
      if (auto problem = NameProblem(workload.name, kMaxWorkloadNameLength,
                                     "workload names appear in namespace and file names")) {
        return ErrorAt(Best(workload.name_location, workload.location), workload_path, *problem);
      }
      if (auto [it, added] = element_paths.emplace(workload.name, workload_path); !added) {
        return ErrorAt(Best(workload.name_location, workload.location), workload_path,
                       internal::Cat("\"", workload.name, "\" is already used by ", it->second));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace nsmcert::harness
