// CTX-004: token expiry closes the path (spec §5.3, §14 D.43): a connection requested with a
// token that lives 3 s and is never refreshed is closed by the hops' timeouts: the nsmgr's
// monitor reports DELETE for it and the client's interface disappears, within the token's
// lifetime plus a few seconds.
#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

constexpr absl::Duration kTokenLifetime = absl::Seconds(3);
constexpr absl::Duration kSlack = absl::Seconds(7);

class TokenExpiryCloses : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "CTX-004";
    info.title = "A connection whose token expires without refresh is closed by the hops";
    info.level = Level::kMust;
    info.area = Area::kContext;
    info.features = {"mechanism.kernel"};
    info.spec = "§5.3, §14 D.43";
    info.timeout = absl::Seconds(60);
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    spec_ = KernelRequest("icmp-responder");
    connection::MonitorScopeSelector selector;
    selector.add_network_services("icmp-responder");
    monitor_ = client().Monitor(selector);
    NsmCallOptions options;
    options.token_lifetime = kTokenLifetime;
    options.deadline = absl::Seconds(2);
    NSMCERT_CASE_ASSIGN_OR_RETURN(reply_, RequestOk(spec_, options));
    requested_ = absl::Now();
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    const std::string id = spec_.connection_id;
    auto deleted = monitor_->WaitFor(
        [&](const connection::ConnectionEvent& event) {
          return event.type() == connection::DELETE && !ConnectionsOfClient(event, id).empty();
        },
        kTokenLifetime + kSlack);
    if (!deleted.has_value()) {
      return CaseFailure(
          Cat("a DELETE event for connection ", id, " on the nsmgr's monitor within ",
              absl::FormatDuration(kTokenLifetime + kSlack), " of a Request whose token lives ",
              absl::FormatDuration(kTokenLifetime), " and is never refreshed: observed none"));
    }
    context.log().Write(Cat("DELETE after ", absl::FormatDuration(absl::Now() - requested_)));
    // The data path goes with it.
    const absl::Time until = absl::Now() + absl::Seconds(3);
    std::optional<InterfaceState> iface;
    do {
      NSMCERT_CASE_ASSIGN_OR_RETURN(iface, ReadInterface(ClientNetns(), kClientInterface));
      if (!iface.has_value()) break;
      absl::SleepFor(absl::Milliseconds(100));
    } while (absl::Now() < until);
    return Expect(!iface.has_value(), Cat("interface ", kClientInterface,
                                          " removed after the timeout closed the connection"));
  }

 private:
  RequestSpec spec_;
  connection::Connection reply_;
  std::unique_ptr<MonitorStream> monitor_;
  absl::Time requested_;
};
NSMCERT_REGISTER_CASE(TokenExpiryCloses);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
