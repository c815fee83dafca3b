// dnscontext (endpoint side): hands the endpoint's DNS configuration to its clients (spec §6,
// `dns_context.configs`; cmd-nse-icmp-responder's NSM_DNS_CONFIGS).
//
// Guarantees: when configured with at least one DNSConfig, every Request leaves with
// connection.context.dns_context.configs set to exactly those configs (a refresh gets them again,
// so a client that changed them is corrected). With none configured the element does nothing.
// Close passes through.
//
// Chain placement: in the endpoint's chain before `mechanisms` (the response carries it back).
// Threading: thread-safe (immutable after construction).
#pragma once

#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "connectioncontext.pb.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::nse {

// Parses NSM_DNS_CONFIGS: a JSON array of DNSConfig objects (`[{"dns_server_ips": ["10.0.0.1"],
// "search_domains": ["my.domain"]}]`; the camelCase names of protobuf JSON work too). Empty text
// means none. INVALID_ARGUMENT naming the element at fault.
absl::StatusOr<std::vector<connectioncontext::DNSConfig>> ParseDnsConfigs(std::string_view json);

class DnsContextServer final : public sdk::NetworkServiceElement {
 public:
  explicit DnsContextServer(std::vector<connectioncontext::DNSConfig> configs);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;

 private:
  std::vector<connectioncontext::DNSConfig> configs_;
};

}  // namespace nsmcert::nse
