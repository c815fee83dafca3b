// REG-010: malformed registrations are refused with INVALID_ARGUMENT whose message names the field
// at fault, nothing of them is stored, and the registry keeps serving (DESIGN.md "Bad input and
// faults"; spec §8.1, §8.2, §14 G).
//
// The inputs: an NSE without a name, an NSE name of 4096 bytes (far beyond the 253 bytes of a
// DNS or Kubernetes name), NSE URLs that are not NSM URLs (spec §2.1: unix:///abs/path or
// tcp://host:port), and a NetworkService without a name.
#include <cctype>

#include "conformance/cases/registry.h"
#include "conformance/cases/registry/registry_case.h"

namespace nsmcert::conformance::registry_cases {
namespace {

constexpr std::size_t kOversizedName = 4096;

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

class BadInputIsRefused : public RegistryCase {
 public:
  static CaseInfo Info() {
    CaseInfo info;
    info.id = "REG-010";
    info.title = "Malformed registrations get INVALID_ARGUMENT naming the field; serving goes on";
    info.level = Level::kMust;
    info.area = Area::kRegistry;
    info.spec = "§2.1, §8.1, §8.2, §14 G";
    return info;
  }

  absl::Status Act(CaseContext& context) override {
    const std::string service = Name("service");
    struct NseInput {
      std::string description;
      registry::NetworkServiceEndpoint nse;
      std::string field;
    };
    const std::vector<NseInput> inputs = {
        {"an NSE without a name", MakeNse("", {service}, "tcp://192.0.2.100:5001"), "name"},
        {Cat("an NSE name of ", kOversizedName, " bytes"),
         MakeNse(Cat(prefix(), "-", std::string(kOversizedName, 'n')), {service},
                 "tcp://192.0.2.100:5001"),
         "name"},
        {"an NSE url with the scheme http",
         MakeNse(Name("bad-scheme"), {service}, "http://192.0.2.100:80"), "url"},
        {"an NSE url that is a relative unix path",
         MakeNse(Name("bad-path"), {service}, "unix://relative.sock"), "url"},
    };
    for (const NseInput& input : inputs) {
      const auto reply = client().RegisterNse(input.nse);
      CheckRefused(context, Cat("Register of ", input.description), reply.status, input.field);
      context.Check(ExpectStillServing(client(), input.description, Name("unused")));
    }
    const auto unnamed = client().RegisterNs(MakeNs(""));
    CheckRefused(context, "NetworkService Register without a name", unnamed.status, "name");

    // Nothing of the above was stored.
    registry::NetworkServiceEndpoint by_service;
    by_service.add_network_service_names(service);
    const auto stored = client().FindNse(by_service);
    NSMCERT_CASE_RETURN_IF_ERROR(
        ExpectRpcOk(Cat("Find{network_service_names: [", service, "]}"), stored.status));
    context.Check(ExpectEq("entries stored from the refused registrations", DescribeNames({}),
                           DescribeNames(NamesOf(stored.responses))));

    // And good input still works.
    const auto good = MakeNse(Name("good"), {service}, "tcp://192.0.2.101:5001");
    return ExpectRpcOk(Cat("Register of a well-formed NSE after the bad input (", good.name(), ")"),
                       client().RegisterNse(good).status);
  }

 private:
  static void CheckRefused(CaseContext& context, const std::string& what,
                           const grpc::Status& status, std::string_view field) {
    if (status.error_code() != grpc::StatusCode::INVALID_ARGUMENT) {
      context.Check(CaseFailure(
          Cat(what, ": expected INVALID_ARGUMENT, observed ", DescribeRpcStatus(status))));
      return;
    }
    if (Lower(status.error_message()).find(field) == std::string::npos) {
      context.Check(CaseFailure(Cat(what, ": expected the error message to name the field \"",
                                    field, "\", observed \"", status.error_message(), "\"")));
    }
  }
};
NSMCERT_REGISTER_CASE(BadInputIsRefused);

}  // namespace
}  // namespace nsmcert::conformance::registry_cases
