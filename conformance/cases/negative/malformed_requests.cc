// NEG-001..NEG-009: malformed and hostile Requests (spec §5.1, §2.3-2.4, §4, §14 G; DESIGN "Bad
// input and faults"). Each case sends one bad Request to the nsmgr of node-a, where a healthy NSE
// serves the network service, and checks that
//   - the Request fails with a gRPC error whose code fits the fault and whose message is not empty;
//   - nothing is left behind: no interface in the client namespace, no connection on the nsmgr's
//     monitor;
//   - the nsmgr keeps serving: a well-formed Request right after succeeds.
#include <functional>

#include "conformance/cases/connectivity/domain_case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance::nsm_cases {
namespace {

struct BadRequest {
  networkservice::NetworkServiceRequest request;
  NsmCallOptions options;
};

// One malformed request: its case info and how it breaks a good request.
template <class Fault>
class MalformedRequest : public DomainCase {
 public:
  static CaseInfo Info() {
    CaseInfo info = Fault::Info();
    info.area = Area::kNegative;
    if (info.features.empty()) info.features = {"mechanism.kernel"};
    return info;
  }

  absl::Status Act(CaseContext&) override {
    EndpointOptions nse;
    nse.workload = "nse-a";
    NSMCERT_CASE_RETURN_IF_ERROR(StartEndpoint(nse).status());
    RequestSpec spec = KernelRequest("icmp-responder", "bad");
    BadRequest bad{MakeRequest(spec), NsmCallOptions{}};
    bad.options.deadline = absl::Seconds(10);
    Fault::Break(bad, spec);
    bad_id_ = spec.connection_id;
    result_ = client().Request(bad.request, bad.options);
    return absl::OkStatus();
  }

  absl::Status Assert(CaseContext& context) override {
    if (result_.ok()) {
      return CaseFailure(Cat(Fault::What(),
                             ": expected the Request to be refused, observed OK "
                             "with path ",
                             DescribeSegments(result_.reply)));
    }
    const grpc::StatusCode code = result_.status.error_code();
    context.log().Write(Cat(Fault::What(), " refused: ", DescribeStatus(result_.status)));
    context.Check(Expect(!result_.status.error_message().empty(),
                         Cat(Fault::What(),
                             ": an error message that says what is wrong, "
                             "observed an empty one (",
                             DescribeStatus(result_.status), ")")));
    context.Check(
        Expect(code != grpc::StatusCode::DEADLINE_EXCEEDED &&
                   code != grpc::StatusCode::UNAVAILABLE && code != grpc::StatusCode::UNKNOWN,
               Cat(Fault::What(), ": a clear refusal, observed ", DescribeStatus(result_.status))));
    if (const auto expected = Fault::ExpectedCode(); expected.has_value()) {
      context.Check(Expect(code == *expected, Cat(Fault::What(), ": expected status code ",
                                                  static_cast<int>(*expected), ", observed ",
                                                  DescribeStatus(result_.status))));
    }
    // Nothing left.
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto iface, ReadInterface(ClientNetns(), kClientInterface));
    context.Check(Expect(!iface.has_value(), Cat("no interface ", kClientInterface, " after ",
                                                 Fault::What(), ", observed one")));
    NSMCERT_CASE_ASSIGN_OR_RETURN(auto held, domain().MonitorSnapshot(kNodeA));
    context.Check(
        ExpectEq(Cat("connections the nsmgr holds after ", Fault::What()), 0u, held.size()));
    // Still serving.
    RequestSpec good = KernelRequest("icmp-responder", "good");
    RequestResult after = client().Request(MakeRequest(good));
    if (!after.ok()) {
      return CaseFailure(Cat("after ", Fault::What(),
                             " the nsmgr should keep serving, but a "
                             "well-formed Request failed: ",
                             DescribeStatus(after.status)));
    }
    return ExpectPing(ClientNetns(), FirstDstIp(after.reply));
  }

 private:
  std::string bad_id_;
  RequestResult result_;
};

using Code = std::optional<grpc::StatusCode>;

struct MissingNetworkService {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-001";
    info.title = "Request without network_service is refused; the nsmgr keeps serving";
    info.level = Level::kMust;
    info.spec = "§9.1, §14 G.63";
    return info;
  }
  static std::string What() { return "a Request without network_service"; }
  static Code ExpectedCode() { return std::nullopt; }
  static void Break(BadRequest& bad, RequestSpec&) {
    bad.request.mutable_connection()->clear_network_service();
  }
};

struct UnknownNetworkService {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-002";
    info.title = "Request for an unknown network service is refused";
    info.level = Level::kMust;
    info.spec = "§9.1, §14 G.63";
    return info;
  }
  static std::string What() { return "a Request for an unregistered network service"; }
  static Code ExpectedCode() { return std::nullopt; }
  static void Break(BadRequest& bad, RequestSpec&) {
    bad.request.mutable_connection()->set_network_service("no-such-service");
  }
};

struct UnknownMechanism {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-003";
    info.title = "Request offering only an unknown mechanism type is refused";
    info.level = Level::kMust;
    info.spec = "§4, §14 B.18";
    return info;
  }
  static std::string What() { return "a Request whose only mechanism is of type NO-SUCH-TYPE"; }
  static Code ExpectedCode() { return std::nullopt; }
  static void Break(BadRequest& bad, RequestSpec&) {
    bad.request.mutable_mechanism_preferences(0)->set_type("NO-SUCH-TYPE");
  }
};

struct OversizedLabels {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-004";
    info.title = "Request with oversized labels (1 MiB) is refused";
    info.level = Level::kShould;
    info.spec = "§5.5; DESIGN bad input";
    return info;
  }
  static std::string What() { return "a Request with a 1 MiB label value"; }
  static Code ExpectedCode() { return std::nullopt; }
  static void Break(BadRequest& bad, RequestSpec&) {
    (*bad.request.mutable_connection()->mutable_labels())["huge"] = std::string(1 << 20, 'x');
  }
};

struct LongInterfaceName {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-005";
    info.title = "KERNEL interface name of 16 bytes is refused with INVALID_ARGUMENT";
    info.level = Level::kMust;
    info.spec = "§4 (name, at most 15 characters)";
    return info;
  }
  static std::string What() { return "a KERNEL mechanism named \"nsm-0123456789ab\" (16 bytes)"; }
  static Code ExpectedCode() { return grpc::StatusCode::INVALID_ARGUMENT; }
  static void Break(BadRequest& bad, RequestSpec&) {
    (*bad.request.mutable_mechanism_preferences(0)->mutable_parameters())["name"] =
        "nsm-0123456789ab";
  }
};

struct BadExcludedPrefix {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-006";
    info.title = "Request with a malformed CIDR in excluded_prefixes is refused";
    info.level = Level::kShould;
    info.spec = "§3.3, §6";
    return info;
  }
  static std::string What() { return "a Request excluding \"300.1.2.3/40\""; }
  static Code ExpectedCode() { return grpc::StatusCode::INVALID_ARGUMENT; }
  static void Break(BadRequest& bad, RequestSpec&) {
    bad.request.mutable_connection()
        ->mutable_context()
        ->mutable_ip_context()
        ->add_excluded_prefixes("300.1.2.3/40");
  }
};

struct ForgedToken {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-007";
    info.title = "Request whose per-RPC token is not a JWT is refused with PERMISSION_DENIED";
    info.level = Level::kMust;
    info.features = {"mechanism.kernel", "authorization"};
    info.spec = "§2.3, §2.4 (tokens_valid), §14 D.42";
    return info;
  }
  static std::string What() { return "a Request with token \"forged.not-a.jwt\""; }
  static Code ExpectedCode() { return grpc::StatusCode::PERMISSION_DENIED; }
  static void Break(BadRequest& bad, RequestSpec&) { bad.options.token = "forged.not-a.jwt"; }
};

struct ExpiredToken {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-008";
    info.title = "Request with an expired token is refused with PERMISSION_DENIED";
    info.level = Level::kMust;
    info.features = {"mechanism.kernel", "authorization"};
    info.spec = "§2.4 (tokens_expired), §14 D.42";
    return info;
  }
  static std::string What() { return "a Request whose token expired a minute ago"; }
  static Code ExpectedCode() { return grpc::StatusCode::PERMISSION_DENIED; }
  static void Break(BadRequest& bad, RequestSpec&) {
    bad.options.token_lifetime = -absl::Minutes(1);
  }
};

struct InconsistentPath {
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "NEG-009";
    info.title = "Request whose connection.id differs from its path segment's id is refused";
    info.level = Level::kMust;
    info.spec = "§5.1 rule 3, §14 G.64";
    return info;
  }
  static std::string What() {
    return "a Request with path index 0 whose segment 0 id differs from connection.id, and whose "
           "segment 0 names another client";
  }
  static Code ExpectedCode() { return std::nullopt; }
  static void Break(BadRequest& bad, RequestSpec&) {
    // Segment 0 is someone else's (another name), so the nsmgr must take the rule-3 branch and
    // find the ids disagree.
    auto* segment = bad.request.mutable_connection()->mutable_path()->mutable_path_segments(0);
    segment->set_id("some-other-id");
  }
};

using Neg001 = MalformedRequest<MissingNetworkService>;
using Neg002 = MalformedRequest<UnknownNetworkService>;
using Neg003 = MalformedRequest<UnknownMechanism>;
using Neg004 = MalformedRequest<OversizedLabels>;
using Neg005 = MalformedRequest<LongInterfaceName>;
using Neg006 = MalformedRequest<BadExcludedPrefix>;
using Neg007 = MalformedRequest<ForgedToken>;
using Neg008 = MalformedRequest<ExpiredToken>;
using Neg009 = MalformedRequest<InconsistentPath>;
NSMCERT_REGISTER_CASE(Neg001);
NSMCERT_REGISTER_CASE(Neg002);
NSMCERT_REGISTER_CASE(Neg003);
NSMCERT_REGISTER_CASE(Neg004);
NSMCERT_REGISTER_CASE(Neg005);
NSMCERT_REGISTER_CASE(Neg006);
NSMCERT_REGISTER_CASE(Neg007);
NSMCERT_REGISTER_CASE(Neg008);
NSMCERT_REGISTER_CASE(Neg009);

}  // namespace
}  // namespace nsmcert::conformance::nsm_cases
