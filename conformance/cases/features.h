// The vocabulary of optional features a case can require and a manifest can claim.
//
// A case lists the features it needs (CaseInfo::features); the runner reports a case whose
// features the manifest does not all claim as "n-a", naming what is missing. Both sides are checked
// against this list, so a typo ("mechanism.vxaln") is an error instead of a silently inapplicable
// case. Features name behaviour beyond the core every implementation must have (spec §18); add a
// new one here, with a line saying what claiming it means, when a case needs it.
#ifndef NSMCERT_CONFORMANCE_CASES_FEATURES_H_
#define NSMCERT_CONFORMANCE_CASES_FEATURES_H_

#include <span>
#include <string_view>

namespace nsmcert::conformance {

struct FeatureInfo {
  std::string_view name;
  std::string_view description;
};

// Every known feature, sorted by name.
std::span<const FeatureInfo> KnownFeatures();

// True when `name` is in KnownFeatures().
bool IsKnownFeature(std::string_view name);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_FEATURES_H_
