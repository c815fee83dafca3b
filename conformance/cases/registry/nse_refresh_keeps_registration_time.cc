// REG-002: a refresh (the same registration sent again with expiration_time cleared, as upstream's
// refresh client does) keeps initial_registration_time, moves expiration_time forward, and gives
// watchers no `deleted` event (spec §8.2, §14 A.2).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

// Long enough for a registry with whole-second timestamps to show a later expiration.
constexpr absl::Duration kRefreshDelay = absl::Milliseconds(1200);
// How long watchers are observed after the refresh for a stray `deleted` event.
constexpr absl::Duration kQuietWindow = absl::Seconds(1);

class NseRefreshKeepsRegistrationTime : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-002";
    info.title = "NSE refresh keeps initial_registration_time, moves expiration, deletes nothing";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.2";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    const auto nse = MakeNse(Name("nse"), {Name("service")}, "tcp://192.0.2.20:5001");
    first_ = client().RegisterNse(nse);
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register ", nse.name()), first_.status));

    registry::NetworkServiceEndpoint query;
    query.set_name(nse.name());
    watch_ = client().WatchNse(query);
    // The current entry arrives first; after it the watch is in place.
    if (!watch_->Next(std::min(absl::Seconds(5), context.remaining())).has_value()) {
      return CaseFailure(Cat("a watch Find{name: \"", nse.name(),
                             "\"} should first send the current entry; nothing arrived in 5s"));
    }

    absl::SleepFor(kRefreshDelay);
    registry::NetworkServiceEndpoint refresh = first_.reply;
    refresh.clear_expiration_time();
    refreshed_ = client().RegisterNse(refresh);
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("refresh (second Register of ", nse.name(), ")"), refreshed_.status));
    after_refresh_ = watch_->Drain(kQuietWindow);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const auto& first = first_.reply;
    const auto& second = refreshed_.reply;
    if (!second.has_initial_registration_time() || !first.has_initial_registration_time() ||
        ToTime(second.initial_registration_time()) != ToTime(first.initial_registration_time())) {
      context.Check(CaseFailure(
          Cat("refresh reply initial_registration_time: expected the first registration's ",
              DescribeTimestamp(first.has_initial_registration_time(),
                                first.initial_registration_time()),
              ", observed ",
              DescribeTimestamp(second.has_initial_registration_time(),
                                second.initial_registration_time()))));
    }
    if (!second.has_expiration_time() ||
        ToTime(second.expiration_time()) <= ToTime(first.expiration_time())) {
      context.Check(CaseFailure(
          Cat("refresh reply expiration_time: expected later than the first registration's ",
              DescribeTimestamp(first.has_expiration_time(), first.expiration_time()),
              " (the refresh came ", absl::FormatDuration(kRefreshDelay), " later), observed ",
              DescribeTimestamp(second.has_expiration_time(), second.expiration_time()))));
    }
    for (const auto& event : after_refresh_) {
      if (event.deleted()) {
        context.Check(
            CaseFailure(Cat("a refresh should not delete the entry, but the watch got "
                            "deleted=true for ",
                            event.network_service_endpoint().name())));
      }
    }
    return absl::OkStatus();
  }

 private:
  UnaryResult<registry::NetworkServiceEndpoint> first_;
  UnaryResult<registry::NetworkServiceEndpoint> refreshed_;
  std::unique_ptr<NseWatch> watch_;
  std::vector<registry::NetworkServiceEndpointResponse> after_refresh_;
};
NSMCERT_REGISTER_CASE(NseRefreshKeepsRegistrationTime);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
