// REG-005: a Find without watch streams the current matches and then ends by itself with OK
// (spec §8.1, §8.2, §14 A.5).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

class NseFindEndsAfterMatches : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-005";
    info.title = "A non-watch Find streams the current matches and ends";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.5";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    struct Entry {
      const char* suffix;
      const char* service;
      const char* url;
    };
    for (const Entry& entry :
         {Entry{"a", "one", "tcp://192.0.2.51:5001"}, Entry{"b", "one", "tcp://192.0.2.52:5001"},
          Entry{"c", "two", "tcp://192.0.2.53:5001"}}) {
      const auto nse = MakeNse(Name(entry.suffix), {Name(entry.service)}, entry.url);
      NSMCERT_CASE_RETURN_IF_ERROR(
          ExpectRpcOk(Cat("Register ", nse.name()), client().RegisterNse(nse).status));
    }
    registry::NetworkServiceEndpoint by_service;
    by_service.add_network_service_names(Name("one"));
    // A Find that does not end is cut by this deadline and reported as DEADLINE_EXCEEDED.
    CallOptions options;
    options.deadline = absl::Seconds(5);
    one_ = client().FindNse(by_service, options);
    all_ = client().FindNse(registry::NetworkServiceEndpoint(), options);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const auto ended = [&](std::string_view what, const grpc::Status& status) {
      if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        return CaseFailure(Cat(what,
                               " without watch should end after the current matches, but "
                               "it was still open after 5s"));
      }
      return ExpectRpcOk(what, status);
    };
    const std::string by_service = Cat("Find{network_service_names: [", Name("one"), "]}");
    context.Check(ended(by_service, one_.status));
    context.Check(ended("Find{} (everything)", all_.status));
    context.Check(ExpectEq(Cat(by_service, " results"), DescribeNames({Name("a"), Name("b")}),
                           DescribeNames(NamesOf(one_.responses))));
    context.Check(ExpectEq("Find{} results (this case's entries)",
                           DescribeNames({Name("a"), Name("b"), Name("c")}),
                           DescribeNames(WithPrefix(NamesOf(all_.responses), prefix()))));
    return absl::OkStatus();
  }

 private:
  FindResult<registry::NetworkServiceEndpointResponse> one_;
  FindResult<registry::NetworkServiceEndpointResponse> all_;
};
NSMCERT_REGISTER_CASE(NseFindEndsAfterMatches);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
