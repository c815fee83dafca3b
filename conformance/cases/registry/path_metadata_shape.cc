// REG-011: the registry answers a Register with the registry path in the `path` response header,
// JSON {"Index":0,"PathSegments":[{"token":...},...]} with the caller's segment first and its own
// after it, and fills path_ids with the SPIFFE IDs of those segments: the caller's at 0, its own
// at 1 (spec §8.5, §14 A.1).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"
#include "nsmcert/api/constants.h"

namespace nsmcert::conformance::registry_cases {
namespace {

class PathMetadataShape : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-011";
    info.title = "Register replies carry the `path` header and path_ids [caller, registry]";
    info.level = Level::kShould;
    info.area = Area::kRegistry;
    info.spec = "§8.5, §14 A.1";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    const auto nse = MakeNse(Name("nse"), {Name("service")}, "tcp://192.0.2.110:5001");
    registered_ = client().RegisterNse(nse);
    return ExpectRpcOk(Cat("Register ", nse.name()), registered_.status);
  }

  absl::Status Assert(CaseContext& context) override {
    const auto& reply = registered_.reply;
    const std::string caller(kCallerId);
    // path_ids: the caller's identity, then the registry's.
    if (reply.path_ids_size() < 2) {
      context.Check(CaseFailure(Cat("Register reply path_ids: expected [\"", caller,
                                    "\", <registry's SPIFFE ID>], observed ",
                                    MessageJson(reply)["path_ids"].dump())));
    } else {
      context.Check(ExpectEq("Register reply path_ids[0] (the caller)", caller, reply.path_ids(0)));
      context.Check(Expect(reply.path_ids(1).starts_with("spiffe://"),
                           Cat("Register reply path_ids[1] to be the registry's SPIFFE ID, "
                               "observed \"",
                               reply.path_ids(1), "\"")));
    }

    // The `path` header.
    const auto header = registered_.headers.find(std::string(api::metadata::kRegistryPath));
    if (header == registered_.headers.end()) {
      return CaseFailure("Register reply: expected a `path` response header, observed none");
    }
    const nlohmann::json path = nlohmann::json::parse(header->second, nullptr, false);
    if (path.is_discarded() || !path.is_object()) {
      return CaseFailure(
          Cat("`path` header: expected a JSON object, observed \"", header->second, "\""));
    }
    const auto index = path.find("Index");
    if (index == path.end() || !index->is_number_unsigned()) {
      context.Check(CaseFailure(
          Cat("`path` header: expected \"Index\" as a whole number, observed ", header->second)));
    } else {
      // The registry restores the caller's index before it replies.
      context.Check(ExpectEq("`path` header Index", 0u, index->get<unsigned>()));
    }
    const auto segments = path.find("PathSegments");
    if (segments == path.end() || !segments->is_array() || segments->size() < 2) {
      return CaseFailure(
          Cat("`path` header: expected \"PathSegments\" with the caller's and the "
              "registry's segment, observed ",
              header->second));
    }
    std::vector<std::string> subjects;
    for (std::size_t i = 0; i < segments->size(); ++i) {
      const nlohmann::json& segment = (*segments)[i];
      const auto token = segment.is_object() ? segment.find("token") : segment.end();
      if (!segment.is_object() || token == segment.end() || !token->is_string()) {
        context.Check(
            CaseFailure(Cat("`path` header PathSegments[", i,
                            "]: expected {\"token\": <JWT>}, observed ", segment.dump())));
        subjects.emplace_back();
        continue;
      }
      auto subject = JwtSubject(token->get<std::string>());
      if (!subject.ok()) {
        context.Check(CaseFailure(Cat("`path` header PathSegments[", i,
                                      "].token: ", std::string(subject.status().message()))));
        subjects.emplace_back();
        continue;
      }
      subjects.push_back(*subject);
    }
    context.Check(
        ExpectEq("`path` header PathSegments[0].token subject (the caller)", caller, subjects[0]));
    if (reply.path_ids_size() >= 2) {
      context.Check(
          ExpectEq("`path` header PathSegments[1].token subject (the registry, as in "
                   "path_ids[1])",
                   reply.path_ids(1), subjects[1]));
    }
    return absl::OkStatus();
  }

 private:
  UnaryResult<registry::NetworkServiceEndpoint> registered_;
};
NSMCERT_REGISTER_CASE(PathMetadataShape);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
