// Selection logic (spec §9.1–§9.3, §8.1–§8.2): which NSEs a request may use (MatchEndpoint), which
// forwarders the nsmgr may use (MatchForwarders), round-robin among candidates, and the registry
// Find query matching.
//
// Label selectors support upstream's templating: a selector value that does not literally equal
// the label is rendered as a Go text/template with the request labels as data and compared again
// (`nodeName: "{{.nodeName}}"`). The forms supported are those NSM configurations use: `{{.key}}`
// (anywhere in the text, any number of times, spaces inside the braces allowed), `{{index .
// "key"}}` for keys that are not identifiers, `{{.}}`, comments, and the `{{-`/`-}}` trim markers.
// A missing key renders as Go does, `<no value>`. Anything else counts as a template that does not
// parse, which, as upstream, simply does not match.
//
// Free functions are pure; RoundRobin is thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/map.h"
#include "registry.pb.h"

namespace nsmcert::sdk::tools {

using LabelMap = google::protobuf::Map<std::string, std::string>;

// Renders `text` as a Go text/template over `data` (see above); nullopt if it does not parse or
// cannot be evaluated with the supported forms.
std::optional<std::string> RenderLabelTemplate(std::string_view text, const LabelMap& data);

// Upstream's matchutils.IsSubset: every key/value of `selector` is in `labels`, where a missing
// label reads as "" and a value that differs is retried after RenderLabelTemplate(value,
// `template_data`). A `labels` map smaller than `selector` fails at once.
bool IsLabelSubset(const LabelMap& labels, const LabelMap& selector, const LabelMap& template_data);

// The NSEs a request with `request_labels` may use for `network_service` (spec §9.2), in route
// order then candidate order, duplicates kept:
// - no matches -> every candidate;
// - the first match whose source_selector fits the request labels decides: the NSEs whose
//   labels for this service fit any of its routes' destination_selector; if none and the match
//   falls through, the next match is tried; a match with metadata, no routes and no candidates
//   yields every candidate;
// - no fitting match -> none.
std::vector<registry::NetworkServiceEndpoint> MatchEndpoint(
    const LabelMap& request_labels, const registry::NetworkService& network_service,
    const std::vector<registry::NetworkServiceEndpoint>& candidates);

// The forwarders an nsmgr may use for a request (spec §9.3): no matches -> all; otherwise the first
// match whose source_selector fits decides, requiring the forwarder's labels for
// `forwarder_service_name` to fit the match's metadata labels, or {"p2p": "true"} when it has none
// (absent and empty are the same on the wire). Forwarders without labels for that service never
// fit. A fall-through match with no fitting forwarder passes to the next match.
std::vector<registry::NetworkServiceEndpoint> MatchForwarders(
    const LabelMap& request_labels, const registry::NetworkService& network_service,
    const std::vector<registry::NetworkServiceEndpoint>& forwarders,
    std::string_view forwarder_service_name = "forwarder");

// Puts the candidate named `name` first (swapping it with the first), as the nsmgr does with the
// forwarder named in the incoming path after a restart. No-op if none has that name.
void PreferCandidate(std::vector<registry::NetworkServiceEndpoint>& candidates,
                     std::string_view name);

// Registry Find matching (spec §8.1): query name empty or equal, payload empty or equal, matches
// empty or equal (element-wise, in order).
bool MatchNetworkServiceQuery(const registry::NetworkService& query,
                              const registry::NetworkService& candidate);

// Registry Find matching (spec §8.2): name empty or equal; every queried service label present
// with the same value; expiration_time (if set) with the same seconds; every queried service
// name present; url empty or a substring of the candidate's.
bool MatchNetworkServiceEndpointQuery(const registry::NetworkServiceEndpoint& query,
                                      const registry::NetworkServiceEndpoint& candidate);

// Round-robin over candidate lists, one counter per network service name (spec §9.1).
class RoundRobin {
 public:
  // The index to try next among `candidate_count` candidates for `network_service`, advancing its
  // counter. Call once per attempt. Returns 0 when `candidate_count` is 0.
  size_t Next(std::string_view network_service, size_t candidate_count);

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, uint64_t> counters_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nsmcert::sdk::tools
