// Labels from configuration and environment (spec §5.5, §13):
// - `NSM_LABELS` of the NSE and forwarder: `k1:v1,k2:v2` (how Go's envconfig reads a
//   map[string]string; the forwarder's default is `p2p:true`);
// - `NSM_LABELS` of the NSC: `k1=v1,k2=v2` (cmd-nsc; labels there mostly come from the NSURL);
// - clientinfo: `nodeName`/`podName`/`clusterName` from `NODE_NAME`/`POD_NAME`/`CLUSTER_NAME`,
//   added only where the label is absent.
//
// Pure functions; the environment is read through an injectable lookup.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "google/protobuf/map.h"

namespace nsmcert::sdk::tools {

// envconfig's map syntax: empty (or only spaces) -> no labels; otherwise comma-separated items,
// each exactly one `key:value` (a value holding ':' is an error, as in envconfig). Keys and values
// are taken verbatim. A repeated key keeps the last value. InvalidArgument naming the item.
absl::StatusOr<std::map<std::string, std::string>> ParseColonLabels(std::string_view text);

// cmd-nsc's syntax: comma-separated `key=value` items, spaces around keys and values trimmed.
// Empty -> no labels. An item that is not exactly one `key=value` with a non-empty key is
// InvalidArgument (upstream silently maps it to an empty key).
absl::StatusOr<std::map<std::string, std::string>> ParseEqualsLabels(std::string_view text);

// Looks up an environment variable; nullopt if unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// The process environment.
std::optional<std::string> ProcessEnv(std::string_view name);

// Adds nodeName/podName/clusterName from NODE_NAME/POD_NAME/CLUSTER_NAME where the variable is
// set (an empty value counts as set, as upstream) and the label is absent.
void AddClientInfo(google::protobuf::Map<std::string, std::string>& labels,
                   const EnvLookup& env = ProcessEnv);
void AddClientInfo(std::map<std::string, std::string>& labels, const EnvLookup& env = ProcessEnv);

}  // namespace nsmcert::sdk::tools
