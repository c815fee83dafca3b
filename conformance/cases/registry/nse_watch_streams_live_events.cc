// REG-006: a watch Find streams the current matches, then every matching Register and Unregister
// (as deleted=true) as it happens, nothing that does not match, and stays open until the client
// cancels it (spec §8.2, §14 A.5).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

constexpr absl::Duration kEventTimeout = absl::Seconds(5);
// How long the watch must stay open with nothing to say; "never EOF" observed for this long.
constexpr absl::Duration kOpenWindow = absl::Seconds(2);

class NseWatchStreamsLiveEvents : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-006";
    info.title = "A watch Find streams current matches, then live events, until cancelled";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.5";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    const std::string service = Name("watched");
    const auto existing = MakeNse(Name("existing"), {service}, "tcp://192.0.2.61:5001");
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Register ", existing.name()), client().RegisterNse(existing).status));

    registry::NetworkServiceEndpoint query;
    query.add_network_service_names(service);
    watch_ = client().WatchNse(query);
    auto current = watch_->Next(std::min(kEventTimeout, context.remaining()));
    if (!current.has_value()) {
      return CaseFailure(Cat("a watch Find{network_service_names: [", service,
                             "]} should first send the current match ", existing.name(),
                             "; nothing arrived in ", absl::FormatDuration(kEventTimeout)));
    }
    events_.push_back(*current);

    // Live: a matching registration, one that does not match, and the first one's removal.
    const auto live = MakeNse(Name("live"), {service}, "tcp://192.0.2.62:5001");
    const auto other = MakeNse(Name("other"), {Name("unwatched")}, "tcp://192.0.2.63:5001");
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Register ", live.name()), client().RegisterNse(live).status));
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Register ", other.name()), client().RegisterNse(other).status));
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Unregister ", live.name()), client().UnregisterNse(live).status));
    // Collect until the expected events arrived or the wait runs out, then watch it stay open.
    const absl::Time until = absl::Now() + std::min(kEventTimeout, context.remaining());
    while (absl::Now() < until && events_.size() < 3) {
      auto event = watch_->Next(until - absl::Now());
      if (!event.has_value()) break;
      events_.push_back(*event);
    }
    for (auto& event : watch_->Drain(kOpenWindow)) events_.push_back(std::move(event));
    end_before_cancel_ = watch_->WaitEnd(absl::ZeroDuration());
    // Cancelling ends the call on the client side whatever the registry does, so there is
    // nothing more to observe; the registry must simply keep serving.
    watch_->Cancel();
    return ExpectStillServing(client(), "a cancelled watch", Name("unused"));
  }

  absl::Status Assert(CaseContext& context) override {
    // In arrival order: the current match, the live registration, its removal.
    std::vector<std::string> observed;
    for (const auto& event : events_) {
      observed.push_back(Cat(event.deleted() ? "-" : "", event.network_service_endpoint().name()));
    }
    const std::vector<std::string> expected = {Name("existing"), Name("live"),
                                               Cat("-", Name("live"))};
    context.Check(ExpectEq("watch events in order (deleted ones marked '-')",
                           DescribeNames(expected), DescribeNames(observed)));
    if (end_before_cancel_.has_value()) {
      context.Check(
          CaseFailure(Cat("a watch Find should stay open until cancelled; it ended "
                          "by itself with ",
                          DescribeRpcStatus(*end_before_cancel_))));
    }
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<NseWatch> watch_;
  std::vector<registry::NetworkServiceEndpointResponse> events_;
  std::optional<grpc::Status> end_before_cancel_;
};
NSMCERT_REGISTER_CASE(NseWatchStreamsLiveEvents);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
