// REG-001: an NSE registration comes back with the caller's fields, an expiration_time in the
// future (no later than the caller's token allows) and an initial_registration_time, and is then
// found as registered (spec §8.2, §14 A.1).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

class NseRegisterReturnsExpiration : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-001";
    info.title = "NSE Register returns the caller's fields, an expiration and a registration time";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.1";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    sent_ = MakeNse(Name("nse"), {Name("service")}, "tcp://192.0.2.10:5001",
                    {{"app", "conformance"}, {"tier", "front"}});
    registered_ = client().RegisterNse(sent_, options_);
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register ", sent_.name()), registered_.status));
    registry::NetworkServiceEndpoint query;
    query.set_name(sent_.name());
    found_ = client().FindNse(query);
    return ExpectRpcOk(Cat("Find{name: \"", sent_.name(), "\"}"), found_.status);
  }

  absl::Status Assert(CaseContext& context) override {
    const registry::NetworkServiceEndpoint& reply = registered_.reply;
    for (absl::Status& check : CompareCallerFields("Register reply", sent_, reply)) {
      context.Check(std::move(check));
    }
    // The expiration: set, in the future, and not beyond the caller's token (each hop takes the
    // minimum of the caller's value, the tokens' expiry and its own default).
    const absl::Time token_expiry = registered_.sent + options_.token_lifetime;
    if (!reply.has_expiration_time()) {
      context.Check(
          CaseFailure("Register reply expiration_time: expected a time, observed (unset)"));
    } else {
      const absl::Time expires = ToTime(reply.expiration_time());
      context.Check(Expect(expires > registered_.received,
                           Cat("Register reply expiration_time in the future (after ",
                               DescribeTimestamp(true, ToTimestamp(registered_.received)),
                               "), observed ", DescribeTimestamp(true, reply.expiration_time()))));
      context.Check(Expect(expires <= token_expiry + absl::Seconds(1),
                           Cat("Register reply expiration_time no later than the caller's token "
                               "expiry ",
                               DescribeTimestamp(true, ToTimestamp(token_expiry)), ", observed ",
                               DescribeTimestamp(true, reply.expiration_time()))));
    }
    if (!reply.has_initial_registration_time()) {
      context.Check(CaseFailure(
          "Register reply initial_registration_time: expected a time, observed (unset)"));
    } else {
      // Set by the registry at this registration; a second of slack for clock granularity.
      const absl::Time initial = ToTime(reply.initial_registration_time());
      context.Check(
          Expect(initial >= registered_.sent - absl::Seconds(1) &&
                     initial <= registered_.received + absl::Seconds(1),
                 Cat("Register reply initial_registration_time at this registration (between ",
                     DescribeTimestamp(true, ToTimestamp(registered_.sent)), " and ",
                     DescribeTimestamp(true, ToTimestamp(registered_.received)), "), observed ",
                     DescribeTimestamp(true, reply.initial_registration_time()))));
    }
    // Found as registered.
    std::vector<std::string> names;
    for (const auto& response : found_.responses) {
      names.push_back(response.network_service_endpoint().name());
    }
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectEq(Cat("Find{name: \"", sent_.name(), "\"} results"),
                                          DescribeNames({sent_.name()}), DescribeNames(names)));
    for (absl::Status& check : CompareCallerFields(
             "Find result", sent_, found_.responses[0].network_service_endpoint())) {
      context.Check(std::move(check));
    }
    context.Check(Expect(!found_.responses[0].deleted(), "the Find result not to be deleted"));
    return absl::OkStatus();
  }

 private:
  CallOptions options_;
  registry::NetworkServiceEndpoint sent_;
  UnaryResult<registry::NetworkServiceEndpoint> registered_;
  FindResult<registry::NetworkServiceEndpointResponse> found_;
};
NSMCERT_REGISTER_CASE(NseRegisterReturnsExpiration);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
