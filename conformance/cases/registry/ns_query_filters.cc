// REG-008: NetworkService Find matches `name` equal and `payload` equal, an empty field matching
// anything (spec §8.1, §14 A.5).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

class NsQueryFilters : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-008";
    info.title = "NetworkService Find filters by name and payload";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.1, §14 A.5";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    for (const auto& ns : {MakeNs(Name("ip-a"), "IP"), MakeNs(Name("ip-b"), "IP"),
                           MakeNs(Name("eth"), "ETHERNET")}) {
      NSMCERT_CASE_RETURN_IF_ERROR(
          ExpectRpcOk(Cat("Register network service ", ns.name()), client().RegisterNs(ns).status));
    }
    queries_ = {
        {"name", MakeNs(Name("eth")), {Name("eth")}},
        {"payload IP", MakeNs("", "IP"), {Name("ip-a"), Name("ip-b")}},
        {"payload ETHERNET", MakeNs("", "ETHERNET"), {Name("eth")}},
        {"name and a payload it does not have", MakeNs(Name("eth"), "IP"), {}},
        {"nothing (everything)", MakeNs(""), {Name("eth"), Name("ip-a"), Name("ip-b")}},
    };
    for (Query& query : queries_) query.result = client().FindNs(query.query);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    for (const Query& query : queries_) {
      const std::string what =
          Cat("NetworkService Find by ", query.description, " ", MessageText(query.query));
      if (!query.result.ok()) {
        context.Check(ExpectRpcOk(what, query.result.status));
        continue;
      }
      std::vector<std::string> expected = query.expected;
      std::sort(expected.begin(), expected.end());
      context.Check(ExpectEq(what, DescribeNames(expected),
                             DescribeNames(WithPrefix(NamesOf(query.result.responses), prefix()))));
    }
    return absl::OkStatus();
  }

 private:
  struct Query {
    std::string description;
    registry::NetworkService query;
    std::vector<std::string> expected;
    FindResult<registry::NetworkServiceResponse> result = {};
  };
  std::vector<Query> queries_;
};
NSMCERT_REGISTER_CASE(NsQueryFilters);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
