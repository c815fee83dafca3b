#include "conformance/runner/manifest.h"

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include "conformance/cases/features.h"
#include "conformance/cases/test_util.h"
#include "conformance/report/json_schema.h"

namespace nsmcert::conformance {
namespace {

const std::string kManifestDir = NSMCERT_MANIFEST_DIR;

// YAML to JSON with every scalar as a string (the manifest has no other scalar types).
nlohmann::json ToJson(const YAML::Node& node) {
  if (node.IsMap()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& entry : node) out[entry.first.Scalar()] = ToJson(entry.second);
    return out;
  }
  if (node.IsSequence()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& element : node) out.push_back(ToJson(element));
    return out;
  }
  if (node.IsNull()) return nullptr;
  return node.Scalar();
}

JsonSchema ManifestSchema() {
  absl::StatusOr<JsonSchema> schema =
      JsonSchema::ParseText(testing::ReadFile(kManifestDir + "/manifest.schema.json"));
  EXPECT_TRUE(schema.ok()) << schema.status();
  return *std::move(schema);
}

TEST(ManifestTest, ReferenceManifestCertifiesTheReferenceImplementation) {
  absl::StatusOr<Manifest> manifest = LoadManifestFile(kManifestDir + "/reference.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  EXPECT_EQ(manifest->vendor, "nsmcert project");
  EXPECT_FALSE(manifest->product.empty());
  EXPECT_FALSE(manifest->version.empty());
  for (Role role : kAllRoles) {
    EXPECT_TRUE(manifest->role(role).declared) << RoleName(role);
    EXPECT_EQ(manifest->role(role).implementation, Implementation::kReference) << RoleName(role);
    EXPECT_EQ(manifest->role(role).role, role);
  }
  EXPECT_TRUE(manifest->Claims("mechanism.kernel"));
  EXPECT_TRUE(std::is_sorted(manifest->features.begin(), manifest->features.end()));
}

TEST(ManifestTest, ExampleExternalManifestShowsEveryForm) {
  absl::StatusOr<Manifest> manifest = LoadManifestFile(kManifestDir + "/example-external.yaml");
  ASSERT_TRUE(manifest.ok()) << manifest.status();
  const RoleSpec& registry = manifest->role(Role::kRegistry);
  EXPECT_EQ(registry.implementation, Implementation::kExternal);
  EXPECT_EQ(registry.address, "tcp://10.100.0.250:5002");
  EXPECT_TRUE(registry.command.empty());

  const RoleSpec& nsmgr = manifest->role(Role::kNsmgr);
  EXPECT_EQ(nsmgr.command,
            (std::vector<std::string>{"/opt/example/bin/nsmgr", "--listen", "{listen_url}",
                                      "--registry", "{registry_url}"}));
  EXPECT_FALSE(nsmgr.shell);
  EXPECT_EQ(nsmgr.env.at("NSM_NAME"), "{name}");
  EXPECT_EQ(nsmgr.startup_timeout, absl::Seconds(20));

  const RoleSpec& forwarder = manifest->role(Role::kForwarder);
  EXPECT_TRUE(forwarder.shell);
  ASSERT_EQ(forwarder.command.size(), 3u);
  EXPECT_EQ(forwarder.command[0], "/bin/sh");
  EXPECT_EQ(forwarder.command[1], "-c");
  EXPECT_EQ(forwarder.startup_timeout, absl::Seconds(30));

  EXPECT_TRUE(manifest->role(Role::kNse).declared);
  EXPECT_FALSE(manifest->role(Role::kNsc).declared);
  EXPECT_EQ(manifest->role(Role::kNsc).implementation, Implementation::kReference);
  EXPECT_EQ(manifest->features,
            (std::vector<std::string>{"ipv6", "mechanism.kernel", "mechanism.vxlan"}));
  EXPECT_EQ(manifest->MissingFeatures({"ipv6", "heal", "mechanism.wireguard"}),
            (std::vector<std::string>{"heal", "mechanism.wireguard"}));
}

TEST(ManifestTest, FixturesMatchTheManifestSchema) {
  const JsonSchema schema = ManifestSchema();
  for (const char* name : {"reference.yaml", "example-external.yaml"}) {
    const nlohmann::json json = ToJson(YAML::LoadFile(kManifestDir + "/" + name));
    EXPECT_EQ(schema.Validate(json), std::vector<std::string>{}) << name;
  }
  nlohmann::json bad = ToJson(YAML::LoadFile(kManifestDir + "/reference.yaml"));
  bad["features"].push_back("teleport");
  bad["roles"]["nsmgr"]["implementation"] = "borrowed";
  EXPECT_EQ(schema.Validate(bad).size(), 2u);
}

TEST(ManifestTest, SchemaFeatureListIsTheVocabulary) {
  const nlohmann::json schema =
      nlohmann::json::parse(testing::ReadFile(kManifestDir + "/manifest.schema.json"));
  std::vector<std::string> in_schema = schema["$defs"]["feature"]["enum"];
  std::vector<std::string> known;
  for (const FeatureInfo& feature : KnownFeatures()) known.emplace_back(feature.name);
  EXPECT_EQ(in_schema, known) << "update fixtures/manifests/manifest.schema.json";
}

struct BadManifest {
  const char* yaml;
  const char* error;  // expected substring of the message, which starts with "m.yaml"
};

class ManifestErrorTest : public ::testing::TestWithParam<BadManifest> {};

TEST_P(ManifestErrorTest, NamesFileLineAndField) {
  absl::StatusOr<Manifest> manifest = ParseManifest(GetParam().yaml, "m.yaml");
  ASSERT_FALSE(manifest.ok()) << GetParam().yaml;
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(manifest.status().message());
  EXPECT_TRUE(message.starts_with("m.yaml")) << message;
  EXPECT_NE(message.find(GetParam().error), std::string::npos)
      << "message: " << message << "\nexpected: " << GetParam().error;
}

constexpr char kHead[] = "vendor: v\nproduct: p\nversion: '1'\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, ManifestErrorTest,
    ::testing::Values(
        BadManifest{"", "m.yaml: empty manifest"},
        BadManifest{"vendor: v\nproduct: p\n", "m.yaml:1:1: missing required key \"version\""},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nvendr: x\n",
                    "m.yaml:4:1: unknown key \"vendr\""},
        BadManifest{"vendor: ''\nproduct: p\nversion: 1\n",
                    "m.yaml:1:9: vendor: must not be empty"},
        BadManifest{"vendor: [unclosed\n", "m.yaml:2:1: invalid YAML"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgrr:\n    implementation: "
                    "reference\n",
                    "m.yaml:5:3: roles: unknown role \"nsmgrr\""},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "borrowed\n",
                    "m.yaml:6:21: roles.nsmgr.implementation: \"borrowed\" is neither"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr: {}\n",
                    "roles.nsmgr: missing required key \"implementation\""},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nse:\n    implementation: "
                    "external\n",
                    "m.yaml:6:5: roles.nse: an external role needs command"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nse:\n    implementation: "
                    "external\n    command: [x]\n    address: unix:///a\n",
                    "m.yaml:8:14: roles.nse.address: give either command"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nse:\n    implementation: "
                    "reference\n    command: [x]\n",
                    "m.yaml:7:14: roles.nse.command: only an external implementation"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    command: [/bin/nsmgr, --listen, \"{listen}\"]\n",
                    "m.yaml:7:37: roles.nsmgr.command[2]: unknown template variable {listen}"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    command: \"run {name\"\n",
                    "roles.nsmgr.command: unclosed '{'"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    command: []\n",
                    "roles.nsmgr.command: must be a non-empty list"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  registry:\n    "
                    "implementation: external\n    address: http://x:1\n",
                    "m.yaml:7:14: roles.registry.address: \"http://x:1\" must be a unix"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    command: [x]\n    env:\n      1BAD: v\n",
                    "m.yaml:9:7: roles.nsmgr.env: \"1BAD\" is not a valid environment"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    command: [x]\n    env:\n      A: \"{nope}\"\n",
                    "roles.nsmgr.env.A: unknown template variable {nope}"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    address: unix:///a\n    env:\n      A: b\n",
                    "roles.nsmgr.env: env is for a role the harness starts"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "external\n    command: [x]\n    startup_timeout: soon\n",
                    "m.yaml:8:22: roles.nsmgr.startup_timeout: \"soon\" is not a positive"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nroles:\n  nsmgr:\n    implementation: "
                    "reference\n  nsmgr:\n    implementation: reference\n",
                    "given twice"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nfeatures:\n  - mechanism.kernel\n  - "
                    "mechanism.vxaln\n",
                    "m.yaml:6:5: features[1]: unknown feature \"mechanism.vxaln\" (known: "},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nfeatures: [ipv6, ipv6]\n",
                    "m.yaml:4:18: features[1]: \"ipv6\" listed twice"},
        BadManifest{"vendor: v\nproduct: p\nversion: 1\nfeatures: ipv6\n",
                    "m.yaml:4:11: features: must be a list"},
        BadManifest{"- just\n- a list\n", "m.yaml:1:1: must be a map"}));

TEST(ManifestTest, MissingFileIsNotFoundNamingThePath) {
  absl::StatusOr<Manifest> manifest = LoadManifestFile("/nonexistent/acme.yaml");
  EXPECT_EQ(manifest.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(manifest.status().message().find("/nonexistent/acme.yaml"), absl::string_view::npos);
}

TEST(TemplateTest, ExpandsVariablesAndLiteralBraces) {
  const std::map<std::string, std::string> values = {{"listen_url", "unix:///tmp/a.sock"},
                                                     {"node", "node-a"}};
  EXPECT_EQ(*ExpandTemplate("--listen={listen_url} --json={{\"n\":\"{node}\"}}", values),
            "--listen=unix:///tmp/a.sock --json={\"n\":\"node-a\"}");
  EXPECT_EQ(*ExpandTemplate("plain", {}), "plain");
  const absl::Status missing = ExpandTemplate("{tunnel_ip}", values).status();
  EXPECT_NE(missing.message().find("no value for template variable {tunnel_ip}"),
            absl::string_view::npos);
  EXPECT_FALSE(ExpandTemplate("a } b", values).ok());
  EXPECT_FALSE(ExpandTemplate("{}", values).ok());
}

TEST(TemplateTest, CheckKnowsTheDocumentedVariables) {
  for (const TemplateVariable& variable : kTemplateVariables) {
    EXPECT_TRUE(CheckTemplate("{" + std::string(variable.name) + "}").ok()) << variable.name;
  }
  EXPECT_FALSE(CheckTemplate("{listen}").ok());
  EXPECT_TRUE(CheckTemplate("{{listen}}").ok());
}

}  // namespace
}  // namespace nsmcert::conformance
