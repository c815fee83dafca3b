// The manifest: which implementation is under test and how to reach it. A YAML file in
// fixtures/manifests/ (reference.yaml certifies the reference implementation), parsed and
// validated here; no processes are started (the harness does that from this model).
//
//   vendor: Acme Networks             # required, non-empty
//   product: acme-nsm                 # required
//   version: 2.3.1                    # required; the product's version, free text
//   description: ...                  # optional, free text
//   roles:                            # optional; a role left out is the reference one
//     registry:
//       implementation: reference     # reference | external
//     nsmgr:
//       implementation: external
//       command: [/opt/acme/bin/nsmgr, --listen, "{listen_url}"]   # argv, no shell; or a string,
//                                                                  # run with /bin/sh -c
//       env:                          # optional, values may use templates
//         NSM_REGISTRY_URL: "{registry_url}"
//       startup_timeout: 30s          # optional, how long it may take to become healthy
//     forwarder:
//       implementation: external
//       address: unix:///run/acme/{node}/forwarder.sock   # or tcp://host:port: already running
//   features:                         # optional features claimed (conformance/cases/features.h)
//     - mechanism.kernel
//     - mechanism.vxlan
//
// An external role has exactly one of `command` (started by the harness inside the node's network
// namespace) or `address` (reached where it already runs). Templates in command, env and address
// are expanded per instance: {name}, {node}, {listen_url}, {registry_url}, {connect_to},
// {tunnel_ip}, {work_dir} (see kTemplateVariables); "{{" and "}}" are literal braces.
//
// Unknown or repeated keys, unknown roles, unknown features and unknown template variables are
// errors, so typos do not pass silently. Errors are INVALID_ARGUMENT (NOT_FOUND when the file
// cannot be read) and start with "<file>:<line>:<column>: " and the path of the field at fault
// ("roles.nsmgr.command[2]").
#ifndef NSMCERT_CONFORMANCE_RUNNER_MANIFEST_H_
#define NSMCERT_CONFORMANCE_RUNNER_MANIFEST_H_

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsmcert::conformance {

// The NSM roles an implementation can fill (spec §1).
enum class Role { kRegistry, kNsmgr, kForwarder, kNse, kNsc };
inline constexpr Role kAllRoles[] = {Role::kRegistry, Role::kNsmgr, Role::kForwarder, Role::kNse,
                                     Role::kNsc};
std::string_view RoleName(Role role);  // "registry", "nsmgr", "forwarder", "nse", "nsc"
std::optional<Role> ParseRole(std::string_view text);

enum class Implementation { kReference, kExternal };
std::string_view ImplementationName(Implementation implementation);  // "reference", "external"

// Template variables allowed in command, env and address, and what the harness puts there.
struct TemplateVariable {
  std::string_view name;
  std::string_view meaning;
};
inline constexpr TemplateVariable kTemplateVariables[] = {
    {"name", "the instance's name (also its NSE/forwarder name), e.g. nsmgr-node-a"},
    {"node", "the node (network namespace) the instance runs on"},
    {"listen_url", "the URL the instance must serve on (unix:///... or tcp://...)"},
    {"registry_url", "the registry's URL"},
    {"connect_to", "the URL of the nsmgr of the instance's node"},
    {"tunnel_ip", "the node's underlay address (forwarders' tunnel endpoint)"},
    {"work_dir", "a private directory for the instance's files"},
};

// Where a value came from. line and column are 1-based; 0 when unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;
  // "<file>:<line>:<column>", "<file>" without a line, "" when nothing is known.
  std::string ToString() const;
};

struct RoleSpec {
  Role role = Role::kRegistry;
  Implementation implementation = Implementation::kReference;
  // External, started by the harness: argv (each element a template). When the manifest gave a
  // string, command is {"/bin/sh", "-c", <string>} and shell is true.
  std::vector<std::string> command;
  bool shell = false;
  std::map<std::string, std::string> env;  // templates
  // External, already running: unix:///path or tcp://host:port (a template).
  std::string address;
  absl::Duration startup_timeout = absl::Seconds(30);
  // False when the manifest did not mention the role (then it is the reference one).
  bool declared = false;
  SourceLocation location;
};

struct Manifest {
  std::string source;  // the file it was read from (or the name the caller gave)
  std::string vendor;
  std::string product;
  std::string version;
  std::string description;
  std::array<RoleSpec, std::size(kAllRoles)> roles;  // indexed by Role
  std::vector<std::string> features;                 // claimed; sorted, unique

  const RoleSpec& role(Role role) const { return roles[static_cast<std::size_t>(role)]; }
  bool Claims(std::string_view feature) const;
  // The entries of `required` this manifest does not claim, in the given order.
  std::vector<std::string> MissingFeatures(const std::vector<std::string>& required) const;
};

// Parses and validates YAML text; `source_name` prefixes error messages.
absl::StatusOr<Manifest> ParseManifest(std::string_view yaml_text, std::string_view source_name);
// Reads and parses a file. NOT_FOUND names the path when it cannot be read.
absl::StatusOr<Manifest> LoadManifestFile(const std::string& path);

// Expands {variable} references with `values`. INVALID_ARGUMENT names an unknown variable, one
// without a value, or an unbalanced brace. "{{" and "}}" stand for literal braces.
absl::StatusOr<std::string> ExpandTemplate(std::string_view text,
                                           const std::map<std::string, std::string>& values);
// Checks syntax and that every variable is one of kTemplateVariables.
absl::Status CheckTemplate(std::string_view text);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_RUNNER_MANIFEST_H_
