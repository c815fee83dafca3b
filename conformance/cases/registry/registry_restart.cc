// REG-012: a registry that dies and is started again serves again: its open watches end instead
// of hanging (that is how NSEs learn to re-register), and after the restart new registrations,
// re-registrations of known names and Finds work (spec §8.2 "Heal", §14 A.8).
//
// The suite kills and restarts the process, so the case needs a registry it starts itself; one
// reached at an address is skipped.
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

constexpr absl::Duration kWatchEndTimeout = absl::Seconds(5);
constexpr absl::Duration kRestartTimeout = absl::Seconds(30);

class RegistryRestart : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-012";
    info.title = "After a registry restart its watches have ended and registrations work again";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§8.2, §14 A.8";
    info.timeout = absl::Seconds(90);
    return info;
  }

  absl::Status Arrange(CaseContext& context) override {
    if (context.roles().spec(Role::kRegistry).implementation == Implementation::kExternal &&
        !context.roles().spec(Role::kRegistry).address.empty()) {
      return CaseSkip(
          "the registry is reached at an address, so the suite cannot kill and restart it");
    }
    return RegistryCase::Arrange(context);
  }

  absl::Status Act(CaseContext& context) override {
    const std::string service = Name("service");
    before_ = MakeNse(Name("before"), {service}, "tcp://192.0.2.120:5001");
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Register ", before_.name()), client().RegisterNse(before_).status));
    registry::NetworkServiceEndpoint query;
    query.set_name(before_.name());
    watch_ = client().WatchNse(query);
    if (!watch_->Next(std::min(absl::Seconds(5), context.remaining())).has_value()) {
      return CaseFailure(Cat("a watch Find{name: \"", before_.name(),
                             "\"} should first send the current entry; nothing arrived in 5s"));
    }

    transcript().Note("killing the registry (SIGKILL)");
    if (absl::Status s = registry().Kill(); !s.ok()) return s;
    watch_end_ = watch_->WaitEnd(std::min(kWatchEndTimeout, context.remaining()));

    transcript().Note("starting the registry again");
    if (absl::Status s = registry().Restart(std::min(kRestartTimeout, context.remaining()));
        !s.ok()) {
      // A reference daemon that does not come back is the harness's trouble; an external one
      // fails (WaitHealthy said which).
      return s;
    }
    NSMCERT_CASE_RETURN_IF_ERROR(Reconnect(context));
    const auto after = MakeNse(Name("after"), {service}, "tcp://192.0.2.121:5001");
    new_registration_ = client().RegisterNse(after);
    re_registration_ = client().RegisterNse(before_);
    registry::NetworkServiceEndpoint by_service;
    by_service.add_network_service_names(service);
    found_ = client().FindNse(by_service);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    if (!watch_end_.has_value()) {
      context.Check(
          CaseFailure(Cat("a watch open on the registry should end when the registry "
                          "dies; it was still open ",
                          absl::FormatDuration(kWatchEndTimeout), " after the kill")));
    } else if (watch_end_->ok()) {
      context.Check(
          CaseFailure("a watch open on the registry ended with OK when the registry "
                      "died; expected an error, so that watchers know to re-register"));
    }
    context.Check(ExpectRpcOk(Cat("Register of a new NSE after the restart (", Name("after"), ")"),
                              new_registration_.status));
    context.Check(ExpectRpcOk(
        Cat("Register of ", before_.name(), " again after the restart (an NSE re-registering)"),
        re_registration_.status));
    if (!found_.ok()) {
      context.Check(ExpectRpcOk("Find after the restart", found_.status));
    } else if (new_registration_.ok() && re_registration_.ok()) {
      context.Check(
          ExpectEq(Cat("Find{network_service_names: [", Name("service"), "]} after the restart"),
                   DescribeNames({Name("after"), Name("before")}),
                   DescribeNames(NamesOf(found_.responses))));
    }
    return absl::OkStatus();
  }

 private:
  registry::NetworkServiceEndpoint before_;
  std::unique_ptr<NseWatch> watch_;
  std::optional<grpc::Status> watch_end_;
  UnaryResult<registry::NetworkServiceEndpoint> new_registration_;
  UnaryResult<registry::NetworkServiceEndpoint> re_registration_;
  FindResult<registry::NetworkServiceEndpointResponse> found_;
};
NSMCERT_REGISTER_CASE(RegistryRestart);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
