#include "reference/nse/dns_context.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>
#include <string>

#include "absl/strings/str_cat.h"

namespace nsmcert::nse {

absl::StatusOr<std::vector<connectioncontext::DNSConfig>> ParseDnsConfigs(std::string_view json) {
  std::vector<connectioncontext::DNSConfig> configs;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return configs;
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return absl::InvalidArgumentError("DNS configs: not a JSON array");
  }
  for (size_t i = 0; i < parsed.size(); ++i) {
    connectioncontext::DNSConfig config;
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = false;
    auto status = google::protobuf::util::JsonStringToMessage(parsed[i].dump(), &config, options);
    if (!status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("DNS configs: element ", i, ": ", std::string(status.message())));
    }
    configs.push_back(std::move(config));
  }
  return configs;
}

DnsContextServer::DnsContextServer(std::vector<connectioncontext::DNSConfig> configs)
    : configs_(std::move(configs)) {}

absl::StatusOr<connection::Connection> DnsContextServer::Request(
    sdk::Context& ctx, networkservice::NetworkServiceRequest& request,
    const sdk::NetworkServiceNext& next) {
  if (!configs_.empty()) {
    auto* dns = request.mutable_connection()->mutable_context()->mutable_dns_context();
    dns->clear_configs();
    for (const auto& config : configs_) *dns->add_configs() = config;
  }
  return next.Request(ctx, request);
}

}  // namespace nsmcert::nse
