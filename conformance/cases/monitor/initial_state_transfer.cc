// MON-001: a new MonitorConnections stream starts with one INITIAL_STATE_TRANSFER event holding
// the server's current connections that match the selector (spec §7, §14 E.44): with an empty
// selector it holds the client's connection (state UP, the client's path); with a selector for an
// id nobody has it is empty.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

class InitialStateTransfer : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "MON-001";
    info.title = "Monitor starts with INITIAL_STATE_TRANSFER of the matching connections";
    info.level = Level::kMust;
    info.area = Area::kMonitor;
    info.features = {"mechanism.kernel"};
    info.spec = "§7, §14 E.44";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_));
    all_ = client().Monitor({});
    connection::MonitorScopeSelector nobody;
    nobody.add_path_segments()->set_id("no-such-connection-id");
    none_ = client().Monitor(nobody);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    auto first = all_->Next(absl::Seconds(5));
    if (!first.has_value()) {
      return CaseFailure(
          "a first event on a MonitorConnections stream with an empty selector "
          "within 5s, observed none");
    }
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectEq("type of the first event (empty selector)",
                                          std::string("INITIAL_STATE_TRANSFER"),
                                          std::string(EventTypeName(first->type()))));
    const auto mine = ConnectionsOfClient(*first, spec_.connection_id);
    if (mine.size() != 1) {
      return CaseFailure(Cat("the initial transfer to hold the client's connection ",
                             spec_.connection_id, " once, observed ", mine.size(), " among ",
                             first->connections_size(), " connection(s)"));
    }
    context.Check(ExpectEq("state of the connection in the initial transfer", std::string("UP"),
                           std::string(connection::State_Name(mine[0].state()))));
    context.Check(ExpectEq("network_service in the initial transfer", spec_.network_service,
                           mine[0].network_service()));
    context.Check(ExpectEq("path of the connection in the initial transfer",
                           DescribeSegments(reply_), DescribeSegments(mine[0])));
    auto empty = none_->Next(absl::Seconds(5));
    if (!empty.has_value()) {
      return CaseFailure(
          "a first event on a stream whose selector matches nothing (an empty "
          "INITIAL_STATE_TRANSFER) within 5s, observed none");
    }
    context.Check(ExpectEq("type of the first event (selector matching nothing)",
                           std::string("INITIAL_STATE_TRANSFER"),
                           std::string(EventTypeName(empty->type()))));
    context.Check(ExpectEq("connections in it", 0, empty->connections_size()));
    return absl::OkStatus();
  }

 private:
  RequestSpec spec_;
  connection::Connection reply_;
  std::unique_ptr<MonitorStream> all_;
  std::unique_ptr<MonitorStream> none_;
};
NSMCERT_REGISTER_CASE(InitialStateTransfer);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
