// REG-007: NSE Find queries match as upstream's registry does (spec §8.2): `name` equal,
// `network_service_names` all contained, `network_service_labels` a subset per service, `url` a
// substring of the stored URL; fields combine with AND (§14 A.5).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

class NseQueryFilters : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-007";
    info.title = "NSE Find filters by name, service names, label subset and URL substring";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.5";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    const std::string s1 = Name("svc1");
    const std::string s2 = Name("svc2");
    const std::string s3 = Name("svc3");
    auto a =
        MakeNse(Name("a"), {s1, s2}, "tcp://192.0.2.71:5001", {{"app", "web"}, {"tier", "front"}});
    auto b = MakeNse(Name("b"), {s1}, Cat("unix:///run/", prefix(), "/b.sock"), {{"app", "web"}});
    auto c = MakeNse(Name("c"), {s3}, "tcp://192.0.2.73:5001");
    for (const auto* nse : {&a, &b, &c}) {
      NSMCERT_CASE_RETURN_IF_ERROR(
          ExpectRpcOk(Cat("Register ", nse->name()), client().RegisterNse(*nse).status));
    }

    const auto labels = [](const std::string& service, std::map<std::string, std::string> wanted) {
      registry::NetworkServiceEndpoint query;
      auto& map = *(*query.mutable_network_service_labels())[service].mutable_labels();
      for (const auto& [key, value] : wanted) map[key] = value;
      return query;
    };
    registry::NetworkServiceEndpoint by_name;
    by_name.set_name(Name("b"));
    registry::NetworkServiceEndpoint by_s1;
    by_s1.add_network_service_names(s1);
    registry::NetworkServiceEndpoint by_s1_s2 = by_s1;
    by_s1_s2.add_network_service_names(s2);
    registry::NetworkServiceEndpoint by_url_prefix;
    by_url_prefix.set_url("192.0.2.7");
    registry::NetworkServiceEndpoint by_url_file;
    by_url_file.set_url(Cat(prefix(), "/b.sock"));
    registry::NetworkServiceEndpoint s1_and_tcp = by_s1;
    s1_and_tcp.set_url("tcp://");

    queries_ = {
        {"name", by_name, {Name("b")}},
        {"one network_service_name", by_s1, {Name("a"), Name("b")}},
        {"two network_service_names (all must be there)", by_s1_s2, {Name("a")}},
        {"label app=web", labels(s1, {{"app", "web"}}), {Name("a"), Name("b")}},
        {"labels app=web,tier=front (a subset)",
         labels(s1, {{"app", "web"}, {"tier", "front"}}),
         {Name("a")}},
        {"label of another value", labels(s1, {{"app", "db"}}), {}},
        {"url substring \"192.0.2.7\"", by_url_prefix, {Name("a"), Name("c")}},
        {"url substring of a unix path", by_url_file, {Name("b")}},
        {"service name and url substring together", s1_and_tcp, {Name("a")}},
    };
    for (Query& query : queries_) query.result = client().FindNse(query.query);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    for (const Query& query : queries_) {
      const std::string what = Cat("Find by ", query.description, " ", MessageText(query.query));
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
    registry::NetworkServiceEndpoint query;
    std::vector<std::string> expected;
    FindResult<registry::NetworkServiceEndpointResponse> result = {};
  };
  std::vector<Query> queries_;
};
NSMCERT_REGISTER_CASE(NseQueryFilters);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
