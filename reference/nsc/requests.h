// What the NSC asks for and what it prints (cmd-nsc's configuration, spec §13.4):
// - one request per NSM_NETWORK_SERVICES entry, `<mechanism>://<service>[/<ifname>][?k=v&...]`
//   (tools::ParseNsUrl), with connection id `<NSM_NAME>-<i>`, the network service, labels =
//   NSM_LABELS overlaid with the NSURL's query labels, and the NSURL's mechanism as the only
//   preference (cls LOCAL, type = scheme upper-cased, `name` = the interface name if given);
// - the connections as a JSON array, each in protobuf's JSON mapping, for scripts.
//
// Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "connection.pb.h"
#include "networkservice.pb.h"

namespace nsmcert::nsc {

// INVALID_ARGUMENT naming the entry (its index and text) when an NSURL does not parse, or when
// there is no entry at all.
absl::StatusOr<std::vector<networkservice::NetworkServiceRequest>> BuildRequests(
    std::string_view name, const std::vector<std::string>& network_services,
    const std::map<std::string, std::string>& labels);

// `[<connection JSON>, ...]` (lowerCamelCase field names, as protobuf's and Go's protojson write
// them), one line.
std::string ConnectionsJson(const std::vector<connection::Connection>& connections);

}  // namespace nsmcert::nsc
