#include "reference/nsc/requests.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::nsc {

absl::StatusOr<std::vector<networkservice::NetworkServiceRequest>> BuildRequests(
    std::string_view name, const std::vector<std::string>& network_services,
    const std::map<std::string, std::string>& labels) {
  if (network_services.empty()) {
    return absl::InvalidArgumentError("no network service to request");
  }
  std::vector<networkservice::NetworkServiceRequest> requests;
  for (size_t i = 0; i < network_services.size(); ++i) {
    absl::StatusOr<sdk::tools::NsUrl> url = sdk::tools::ParseNsUrl(network_services[i]);
    if (!url.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "network service ", i, " (\"", network_services[i], "\"): ", url.status().message()));
    }
    networkservice::NetworkServiceRequest request;
    connection::Connection* conn = request.mutable_connection();
    conn->set_id(absl::StrCat(std::string(name), "-", i));
    conn->set_network_service(url->network_service);
    auto& conn_labels = *conn->mutable_labels();
    for (const auto& [key, value] : labels) conn_labels[key] = value;
    for (const auto& [key, value] : url->labels) conn_labels[key] = value;
    *request.add_mechanism_preferences() = url->ToMechanism();
    requests.push_back(std::move(request));
  }
  return requests;
}

std::string ConnectionsJson(const std::vector<connection::Connection>& connections) {
  std::string out = "[";
  for (size_t i = 0; i < connections.size(); ++i) {
    std::string json;
    // Serialising a valid message cannot fail.
    (void)google::protobuf::util::MessageToJsonString(connections[i], &json);
    if (i > 0) out += ",";
    out += json;
  }
  out += "]";
  return out;
}

}  // namespace nsmcert::nsc
