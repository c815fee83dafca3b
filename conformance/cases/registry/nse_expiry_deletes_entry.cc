// REG-003: a registration that is not refreshed expires: after its expiration_time the registry
// no longer returns it and watchers get it with deleted=true (spec §8.2, §14 A.3).
//
// The registration asks for a short life through its own expiration_time, which every registry
// hop must honour (it takes the minimum of the caller's value, the tokens and its own default),
// so the case does not depend on the registry's default lifetime.
#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

// The life the registration asks for, and the deadline of its Register call (upstream expires an
// entry at expiration_time minus the time its request had, so the deadline is kept short).
constexpr absl::Duration kLifetime = absl::Seconds(3);
constexpr absl::Duration kRegisterDeadline = absl::Seconds(1);
// How long after the expiration the case waits for the `deleted` event.
constexpr absl::Duration kGrace = absl::Seconds(5);

class NseExpiryDeletesEntry : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-003";
    info.title = "An NSE registration that is not refreshed expires and watchers see it deleted";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.features = {"registry.expiry"};
    info.spec = "§8.2, §14 A.3";
    info.timeout = absl::Seconds(60);
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    name_ = Name("nse");
    registry::NetworkServiceEndpoint query;
    query.set_name(name_);
    watch_ = client().WatchNse(query);

    auto nse = MakeNse(name_, {Name("service")}, "tcp://192.0.2.30:5001");
    requested_expiry_ = absl::Now() + kLifetime;
    *nse.mutable_expiration_time() = ToTimestamp(requested_expiry_);
    CallOptions options;
    options.deadline = kRegisterDeadline;
    const auto registered = client().RegisterNse(nse, options);
    NSMCERT_CASE_RETURN_IF_ERROR(ExpectRpcOk(Cat("Register ", name_), registered.status));
    if (registered.reply.has_expiration_time()) {
      context.Check(
          Expect(ToTime(registered.reply.expiration_time()) <= requested_expiry_,
                 Cat("Register reply expiration_time no later than the caller's ",
                     DescribeTimestamp(true, ToTimestamp(requested_expiry_)), ", observed ",
                     DescribeTimestamp(true, registered.reply.expiration_time()))));
    }

    // Wait for the entry's deleted=true event, however it arrived (current entry or event).
    const absl::Time until =
        std::min(requested_expiry_ + kGrace, absl::Now() + context.remaining());
    while (absl::Now() < until && !context.cancelled()) {
      std::optional<registry::NetworkServiceEndpointResponse> event =
          watch_->Next(std::min(until - absl::Now(), absl::Milliseconds(200)));
      if (!event.has_value()) {
        if (watch_->ended()) break;
        continue;
      }
      events_.push_back(*event);
      if (event->deleted() && event->network_service_endpoint().name() == name_) {
        deleted_at_ = absl::Now();
        break;
      }
    }
    after_ = client().FindNse(query);
    return ExpectRpcOk(Cat("Find{name: \"", name_, "\"} after the expiration"), after_.status);
  }

  absl::Status Assert(CaseContext& context) override {
    if (!deleted_at_.has_value()) {
      const std::optional<grpc::Status> end = watch_->WaitEnd(absl::ZeroDuration());
      context.Check(CaseFailure(
          Cat("watchers should get deleted=true for ", name_, " once it expires (requested ",
              DescribeTimestamp(true, ToTimestamp(requested_expiry_)), "); within ",
              absl::FormatDuration(kGrace), " after that the watch received ",
              DescribeNames(NamesOf(events_)),
              end.has_value() ? Cat(" and ended with ", DescribeRpcStatus(*end)) : std::string())));
    }
    const std::vector<std::string> left = NamesOf(after_.responses);
    context.Check(ExpectEq(Cat("Find{name: \"", name_, "\"} after the expiration"),
                           DescribeNames({}), DescribeNames(left)));
    return absl::OkStatus();
  }

 private:
  std::string name_;
  absl::Time requested_expiry_;
  std::unique_ptr<NseWatch> watch_;
  std::vector<registry::NetworkServiceEndpointResponse> events_;
  std::optional<absl::Time> deleted_at_;
  FindResult<registry::NetworkServiceEndpointResponse> after_;
};
NSMCERT_REGISTER_CASE(NseExpiryDeletesEntry);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
