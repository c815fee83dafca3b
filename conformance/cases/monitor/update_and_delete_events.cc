// MON-002: a subscriber sees an UPDATE when a connection is established and a DELETE (same
// connection) when it is closed (spec §7, §14 E.45).
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class UpdateAndDeleteEvents : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "MON-002";
    info.title = "Monitor: UPDATE on connect, DELETE on Close";
    info.level = Level::kMust;
    info.area = Area::kMonitor;
    info.features = {"mechanism.kernel"};
    info.spec = "§7, §14 E.45";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    monitor_ = client().Monitor({});
    if (!monitor_->Next(absl::Seconds(5)).has_value()) {
      return CaseFailure("an INITIAL_STATE_TRANSFER on subscribing, observed nothing in 5s");
    }
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    update_ = monitor_->WaitFor(
        [&](const connection::ConnectionEvent& e) {
          return !ConnectionsOfClient(e, spec_.connection_id).empty();
        },
        absl::Seconds(5));
    close_ = client().Close(reply_);
    if (close_.ok()) {
      del_ = monitor_->WaitFor(
          [&](const connection::ConnectionEvent& e) {
            return e.type() == connection::DELETE &&
                   !ConnectionsOfClient(e, spec_.connection_id).empty();
          },
          absl::Seconds(5));
    }
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext&) override {
    if (!update_.has_value()) {
      return CaseFailure(Cat("an event for connection ", spec_.connection_id,
                             " after the Request, observed none in 5s"));
    }
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectEq("type of the event after the Request",
                                          std::string("UPDATE"),
                                          std::string(EventTypeName(update_->type()))));
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectEq("Close of the connection", std::string("OK"), DescribeStatus(close_)));
    if (!del_.has_value()) {
      return CaseFailure(Cat("a DELETE event for connection ", spec_.connection_id,
                             " after Close, observed none in 5s"));
    }
    return absl::OkStatus();
  }

 private:
  RequestSpec spec_;
  connection::Connection reply_;
  std::unique_ptr<MonitorStream> monitor_;
  std::optional<connection::ConnectionEvent> update_;
  std::optional<connection::ConnectionEvent> del_;
  grpc::Status close_;
};
NSMCERT_REGISTER_CASE(UpdateAndDeleteEvents);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
