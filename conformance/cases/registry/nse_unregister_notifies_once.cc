// REG-004: Unregister removes the entry, and a watcher gets exactly one deleted=true event that
// carries the last registered object (spec §8.2, §14 A.4).
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

constexpr absl::Duration kEventTimeout = absl::Seconds(5);
// How long the watch is observed after the deletion for a second one.
constexpr absl::Duration kQuietWindow = absl::Seconds(1);

class NseUnregisterNotifiesOnce : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-004";
    info.title = "NSE Unregister removes the entry and watchers get one deleted=true event";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.4";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    name_ = Name("nse");
    // Registered twice with different URLs: the deleted event must carry the last one.
    const auto first = MakeNse(name_, {Name("service")}, "tcp://192.0.2.40:5001");
    last_ = MakeNse(name_, {Name("service")}, "tcp://192.0.2.41:5001", {{"app", "conformance"}});
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Register ", name_), client().RegisterNse(first).status));
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register ", name_, " with a new url"),
                                             client().RegisterNse(last_).status));

    registry::NetworkServiceEndpoint query;
    query.set_name(name_);
    watch_ = client().WatchNse(query);
    if (!watch_->Next(std::min(kEventTimeout, context.remaining())).has_value()) {
      return CaseFailure(Cat("a watch Find{name: \"", name_,
                             "\"} should first send the current entry; nothing arrived in ",
                             absl::FormatDuration(kEventTimeout)));
    }
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Unregister ", name_), client().UnregisterNse(last_).status));
    // The first deleted event, then a quiet window for duplicates.
    const absl::Time until = absl::Now() + std::min(kEventTimeout, context.remaining());
    while (absl::Now() < until) {
      auto event = watch_->Next(until - absl::Now());
      if (!event.has_value()) break;
      events_.push_back(*event);
      if (event->deleted()) break;
    }
    for (auto& event : watch_->Drain(kQuietWindow)) events_.push_back(std::move(event));
    after_ = client().FindNse(query);
    return ExpectRpcOk(Cat("Find{name: \"", name_, "\"} after Unregister"), after_.status);
  }

  absl::Status Assert(CaseContext& context) override {
    std::vector<const registry::NetworkServiceEndpointResponse*> deleted;
    for (const auto& event : events_) {
      if (event.deleted()) deleted.push_back(&event);
    }
    if (deleted.size() != 1) {
      context.Check(CaseFailure(Cat(
          "after Unregister the watch should get exactly one "
          "deleted=true event for ",
          name_, "; it got ", deleted.size(), " (events: ", DescribeNames(NamesOf(events_)), ")")));
    }
    if (!deleted.empty()) {
      for (absl::Status& check : CompareCallerFields("deleted event", last_,
                                                     deleted.front()->network_service_endpoint())) {
        context.Check(std::move(check));
      }
    }
    context.Check(ExpectEq(Cat("Find{name: \"", name_, "\"} after Unregister"), DescribeNames({}),
                           DescribeNames(NamesOf(after_.responses))));
    return absl::OkStatus();
  }

 private:
  std::string name_;
  registry::NetworkServiceEndpoint last_;
  std::unique_ptr<NseWatch> watch_;
  std::vector<registry::NetworkServiceEndpointResponse> events_;
  FindResult<registry::NetworkServiceEndpointResponse> after_;
};
NSMCERT_REGISTER_CASE(NseUnregisterNotifiesOnce);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
