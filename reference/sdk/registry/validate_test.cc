#include "reference/sdk/registry/validate.h"

#include <gtest/gtest.h>

#include "reference/sdk/registry/testing.h"

namespace nsmcert::sdk::reg {
namespace {

using registry::NetworkService;
using registry::NetworkServiceEndpoint;
using testing::MakeNse;

// Expects INVALID_ARGUMENT whose message starts with `field`.
void ExpectInvalid(const absl::Status& status, const std::string& field) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(std::string(status.message()).rfind(field, 0), 0u) << status;
}

absl::Status Register(NetworkServiceEndpoint nse) {
  return ValidateNetworkServiceEndpoint(nse, ValidationMode::kRegister);
}

TEST(ValidateNse, AcceptsWhatUpstreamComponentsRegister) {
  NetworkServiceEndpoint nse =
      MakeNse("nse-icmp-responder-5d8f7", {"icmp-responder"}, "tcp://10.244.1.7:5001");
  (*(*nse.mutable_network_service_labels())["icmp-responder"].mutable_labels())["app"] = "icmp";
  nse.add_path_ids("spiffe://k8s.nsm/ns/nsm-system/pod/nse");
  nse.mutable_expiration_time()->set_seconds(1'800'000'060);
  EXPECT_TRUE(Register(nse).ok());
  EXPECT_TRUE(Register(MakeNse("fwd", {"forwarder"}, "unix:///var/lib/nsm/fwd.sock")).ok());
  EXPECT_TRUE(Register(MakeNse("via-fd", {}, "inode://4/4026531993")).ok());
  EXPECT_TRUE(Register(MakeNse("no-url")).ok());
}

TEST(ValidateNse, NamesMustBePresentBoundedAndPrintable) {
  ExpectInvalid(Register(MakeNse("")), "network_service_endpoint.name: must not be empty");
  ExpectInvalid(Register(MakeNse(std::string(254, 'a'))), "network_service_endpoint.name: 254");
  ExpectInvalid(Register(MakeNse("a b")), "network_service_endpoint.name");
  ExpectInvalid(Register(MakeNse(std::string("a\0b", 3))), "network_service_endpoint.name");
  ExpectInvalid(Register(MakeNse("ok", {""})), "network_service_endpoint.network_service_names[0]");
}

TEST(ValidateNse, LabelsAreBounded) {
  NetworkServiceEndpoint nse = MakeNse("nse");
  auto& labels = *(*nse.mutable_network_service_labels())["svc"].mutable_labels();
  for (int i = 0; i < 65; ++i) labels["k" + std::to_string(i)] = "v";
  ExpectInvalid(Register(nse), "network_service_endpoint.network_service_labels[\"svc\"].labels");

  NetworkServiceEndpoint huge = MakeNse("nse");
  (*(*huge.mutable_network_service_labels())["svc"].mutable_labels())["k"] = std::string(2000, 'v');
  ExpectInvalid(Register(huge), "network_service_endpoint.network_service_labels[\"svc\"].labels");

  NetworkServiceEndpoint empty_key = MakeNse("nse");
  (*(*empty_key.mutable_network_service_labels())["svc"].mutable_labels())[""] = "v";
  ExpectInvalid(Register(empty_key), "network_service_endpoint.network_service_labels");
}

TEST(ValidateNse, UrlsMustBeNsmUrls) {
  for (const char* bad :
       {"http://x:1", "unix://relative", "tcp://host", "not a url", "tcp://h:99999"}) {
    SCOPED_TRACE(bad);
    ExpectInvalid(Register(MakeNse("nse", {}, bad)), "network_service_endpoint.url");
  }
  ExpectInvalid(Register(MakeNse("nse", {}, "tcp://" + std::string(2000, 'h') + ":1")),
                "network_service_endpoint.url");
}

TEST(ValidateNse, QueriesMayBeEmptyAndTheirUrlIsAFragment) {
  EXPECT_TRUE(
      ValidateNetworkServiceEndpoint(NetworkServiceEndpoint(), ValidationMode::kQuery).ok());
  EXPECT_TRUE(
      ValidateNetworkServiceEndpoint(MakeNse("", {"svc"}, "10.0.0.1"), ValidationMode::kQuery)
          .ok());
  ExpectInvalid(ValidateNetworkServiceEndpoint(MakeNse("a\nb"), ValidationMode::kQuery),
                "network_service_endpoint.name");
}

TEST(ValidateNse, TimestampsAndListsAreBounded) {
  NetworkServiceEndpoint nse = MakeNse("nse");
  nse.mutable_expiration_time()->set_nanos(-1);
  ExpectInvalid(Register(nse), "network_service_endpoint.expiration_time");
  NetworkServiceEndpoint many = MakeNse("nse");
  for (int i = 0; i < 65; ++i) many.add_path_ids("id");
  ExpectInvalid(Register(many), "network_service_endpoint.path_ids");
}

TEST(ValidateNs, ChecksNamePayloadAndMatches) {
  NetworkService ns;
  ns.set_name("icmp");
  EXPECT_TRUE(ValidateNetworkService(ns, ValidationMode::kRegister).ok());
  NetworkService unnamed;
  ExpectInvalid(ValidateNetworkService(unnamed, ValidationMode::kRegister), "network_service.name");
  EXPECT_TRUE(ValidateNetworkService(unnamed, ValidationMode::kQuery).ok());
  NetworkService bad_payload = ns;
  bad_payload.set_payload("IP\n");
  ExpectInvalid(ValidateNetworkService(bad_payload, ValidationMode::kRegister),
                "network_service.payload");
  NetworkService bad_match = ns;
  auto& selector = *bad_match.add_matches()->add_routes()->mutable_destination_selector();
  for (int i = 0; i < 65; ++i) selector["k" + std::to_string(i)] = "v";
  ExpectInvalid(ValidateNetworkService(bad_match, ValidationMode::kRegister),
                "network_service.matches[0].routes[0].destination_selector");
}

TEST(ValidateElement, RefusesBeforeTheRestOfTheChainRuns) {
  struct Counter : NseRegistryElement {
    int calls = 0;
    absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                    const NseRegistryNext& next) override {
      ++calls;
      return next.Register(ctx, nse);
    }
  };
  auto counter = std::make_shared<Counter>();
  auto chain = *NseRegistryChain::Make({std::make_shared<NseValidate>(), counter});
  Context ctx;
  NetworkServiceEndpoint bad = MakeNse("");
  ExpectInvalid(chain->Register(ctx, bad).status(), "network_service_endpoint.name");
  NetworkServiceEndpoint good = MakeNse("nse");
  EXPECT_TRUE(chain->Register(ctx, good).ok());
  EXPECT_EQ(counter->calls, 1);
  ExpectInvalid(chain->Unregister(ctx, bad), "network_service_endpoint.name");

  registry::NetworkServiceEndpointQuery query;
  query.mutable_network_service_endpoint()->add_network_service_names("bad name");
  FunctionSink<registry::NetworkServiceEndpointResponse> sink(
      [](const auto&) { return absl::OkStatus(); });
  ExpectInvalid(chain->Find(ctx, query, sink), "network_service_endpoint.network_service_names[0]");
}

TEST(ValidateElement, LimitsAreConfigurable) {
  auto chain =
      *NsRegistryChain::Make({std::make_shared<NsValidate>(RegistryLimits{.max_name_length = 4})});
  Context ctx;
  NetworkService ns;
  ns.set_name("12345");
  ExpectInvalid(chain->Register(ctx, ns).status(), "network_service.name: 5 bytes, at most 4");
}

}  // namespace
}  // namespace nsmcert::sdk::reg
