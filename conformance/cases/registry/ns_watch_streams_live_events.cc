// REG-013: a NetworkService watch Find streams the current matches, then each matching Register
// and Unregister (deleted=true, with the removed service) as it happens (spec §8.1, §14 A.5).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

constexpr absl::Duration kEventTimeout = absl::Seconds(5);
constexpr absl::Duration kQuietWindow = absl::Milliseconds(500);

class NsWatchStreamsLiveEvents : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-013";
    info.title = "A NetworkService watch Find streams current matches, registrations and removals";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.1, §14 A.5";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    // Watched by payload: the case's services are ETHERNET, which other users of a shared
    // registry may use too, so events are judged by the case's prefix.
    const auto existing = MakeNs(Name("existing"), "ETHERNET");
    const auto live = MakeNs(Name("live"), "ETHERNET");
    const auto other = MakeNs(Name("other"), "IP");
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register network service ", existing.name()),
                                             client().RegisterNs(existing).status));
    watch_ = client().WatchNs(MakeNs("", "ETHERNET"));
    // The current matches come first; wait for ours.
    const absl::Time until = absl::Now() + std::min(kEventTimeout, context.remaining());
    bool current_seen = false;
    while (!current_seen && absl::Now() < until) {
      auto event = watch_->Next(until - absl::Now());
      if (!event.has_value()) break;
      if (!event->network_service().name().starts_with(prefix())) continue;
      events_.push_back(*event);
      current_seen = event->network_service().name() == existing.name();
    }
    if (!current_seen) {
      return CaseFailure(
          Cat("a watch NetworkService Find{payload: \"ETHERNET\"} should first "
              "send the current match ",
              existing.name(), "; it did not within ", absl::FormatDuration(kEventTimeout),
              " (saw ", DescribeNames(NamesOf(events_)), ")"));
    }
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register network service ", live.name()),
                                             client().RegisterNs(live).status));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register network service ", other.name()),
                                             client().RegisterNs(other).status));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Unregister network service ", live.name()),
                                             client().UnregisterNs(live).status));
    const absl::Time events_until = absl::Now() + std::min(kEventTimeout, context.remaining());
    while (absl::Now() < events_until && events_.size() < 3) {
      auto event = watch_->Next(events_until - absl::Now());
      if (!event.has_value()) break;
      if (event->network_service().name().starts_with(prefix())) events_.push_back(*event);
    }
    for (auto& event : watch_->Drain(kQuietWindow)) {
      if (event.network_service().name().starts_with(prefix())) events_.push_back(std::move(event));
    }
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    std::vector<std::string> observed;
    for (const auto& event : events_) {
      observed.push_back(Cat(event.deleted() ? "-" : "", event.network_service().name()));
    }
    const std::vector<std::string> expected = {Name("existing"), Name("live"),
                                               Cat("-", Name("live"))};
    context.Check(ExpectEq("NetworkService watch events in order (deleted ones marked '-')",
                           DescribeNames(expected), DescribeNames(observed)));
    for (const auto& event : events_) {
      if (event.deleted()) {
        context.Check(
            ExpectEq(Cat("payload of the deleted event for ", event.network_service().name()),
                     std::string("ETHERNET"), event.network_service().payload()));
      }
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<NsWatch> watch_;
  std::vector<registry::NetworkServiceResponse> events_;
};
NSMCERT_REGISTER_CASE(NsWatchStreamsLiveEvents);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
