// MON-004: DOWN propagation (spec §7, §14 E.46): when the NSE's pod dies, the hops that followed
// its monitor learn it and the nsmgr publishes the client's connection with state DOWN (or
// deletes it) to a passive subscriber. No client heals here: the crafted client does not react.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class DownPropagation : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "MON-004";
    info.title = "The NSE's death reaches the nsmgr's monitor as DOWN (or DELETE)";
    info.level = Level::kMust;
    info.area = Area::kMonitor;
    info.features = {"mechanism.kernel"};
    info.spec = "§7 (propagation), §11, §14 E.46";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_ASSIGN_OR_RETURN(DomainEndpoint * endpoint, StartEndpoint(nse));
    if (!endpoint->role->supervised()) {
      return CaseSkip("the NSE is reached at an address: the suite cannot kill it");
    }
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_RETURN_IF_ERROR(RequestOk(spec_).status());
    connection::MonitorScopeSelector selector;
    selector.add_network_services("icmp-responder");
    monitor_ = client().Monitor(selector);
    if (!monitor_->Next(absl::Seconds(5)).has_value()) {
      return CaseFailure("an INITIAL_STATE_TRANSFER on subscribing, observed nothing in 5s");
    }
    NSMCERT_CASE_RETURN_IF_ERROR(endpoint->role->Kill());
    NSMCERT_CASE_RETURN_IF_ERROR(domain().StopEndpoint("nse-a"));
    NSMCERT_CASE_RETURN_IF_ERROR(domain().RecreateWorkloadNamespace("nse-a"));
    killed_ = absl::Now();
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const std::string id = spec_.connection_id;
    auto down = monitor_->WaitFor(
        [&](const connection::ConnectionEvent& event) {
          for (const connection::Connection& conn : ConnectionsOfClient(event, id)) {
            if (event.type() == connection::DELETE || conn.state() == connection::DOWN) return true;
          }
          return false;
        },
        absl::Seconds(15));
    if (!down.has_value()) {
      std::vector<std::string> seen;
      for (const auto& event : monitor_->Seen()) {
        for (const auto& conn : ConnectionsOfClient(event, id)) {
          seen.push_back(
              Cat(EventTypeName(event.type()), "/", connection::State_Name(conn.state())));
        }
      }
      return CaseFailure(Cat("an event with state DOWN (or a DELETE) for connection ", id,
                             " on the nsmgr's monitor within 15s of the NSE's death, observed [",
                             Join(seen, ", "), "]"));
    }
    context.log().Write(
        Cat(EventTypeName(down->type()), " after ", absl::FormatDuration(absl::Now() - killed_)));
    return absl::OkStatus();
  }

 private:
  RequestSpec spec_;
  std::unique_ptr<MonitorStream> monitor_;
  absl::Time killed_;
};
NSMCERT_REGISTER_CASE(DownPropagation);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
