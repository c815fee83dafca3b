// MON-003: monitor selectors (spec §7, §14 E.45): a selector by the client's segment id sees that
// connection and not another one; a selector by network service sees only that service's
// connections.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

std::set<std::string> ClientIds(const std::vector<connection::ConnectionEvent>& events) {
  std::set<std::string> ids;
  for (const auto& event : events) {
    for (const auto& [key, conn] : event.connections()) {
      if (conn.path().path_segments_size() > 0) ids.insert(conn.path().path_segments(0).id());
    }
  }
  return ids;
}

class SelectorFiltersEvents : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "MON-003";
    info.title = "Monitor selectors by segment id and by network service";
    info.level = Level::kMust;
    info.area = Area::kMonitor;
    info.features = {"mechanism.kernel"};
    info.spec = "§7, §14 E.45";
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions red;
    red.workload = "nse-a";
    red.services = {"red"};
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(red).status());
    EndpointOptions blue;
    blue.workload = "nse-a2";
    blue.services = {"blue"};
    blue.cidr = "172.16.2.100/31";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(blue).status());
    red_spec_ = KernelRequest("red", "red");
    blue_spec_ = KernelRequest("blue", "blue");
    blue_spec_.interface_name = "nsm-2";
    connection::MonitorScopeSelector by_id;
    auto* segment = by_id.add_path_segments();
    segment->set_id(red_spec_.connection_id);
    segment->set_name(red_spec_.client_name);
    by_id_ = client().Monitor(by_id);
    connection::MonitorScopeSelector by_service;
    by_service.add_network_services("blue");
    by_service_ = client().Monitor(by_service);
    NSMCERT_CASE_RETURN_IF_ERROR(RequestOk(red_spec_).status());
    NSMCERT_CASE_RETURN_IF_ERROR(RequestOk(blue_spec_).status());
    // Both connections are up: give the streams a moment to deliver.
    absl::SleepFor(absl::Seconds(1));
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const std::set<std::string> red = {red_spec_.connection_id};
    const std::set<std::string> blue = {blue_spec_.connection_id};
    context.Check(ExpectEq("client connections seen by a selector on the red connection's segment",
                           Cat("[", Join(red, ", "), "]"),
                           Cat("[", Join(ClientIds(by_id_->Seen()), ", "), "]")));
    context.Check(ExpectEq("client connections seen by a selector on network service \"blue\"",
                           Cat("[", Join(blue, ", "), "]"),
                           Cat("[", Join(ClientIds(by_service_->Seen()), ", "), "]")));
    return absl::OkStatus();
  }

 private:
  RequestSpec red_spec_;
  RequestSpec blue_spec_;
  std::unique_ptr<MonitorStream> by_id_;
  std::unique_ptr<MonitorStream> by_service_;
};
NSMCERT_REGISTER_CASE(SelectorFiltersEvents);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
