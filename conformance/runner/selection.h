// Which cases a run or a listing includes: the profile, then the --filter expression.
//
// A filter is a comma-separated list of terms:
//   REG-*, DP-KERNEL-00?     id globs ('*' any run, '?' one character; case-insensitive);
//                            "id:" in front is allowed
//   area:registry            the case's area
//   level:MUST               the case's requirement level (case-insensitive)
//   feature:mechanism.vxlan  the case requires that feature
//   !TERM                    excludes what TERM matches
// Terms of the same kind are alternatives (OR); kinds combine with AND; an exclusion always
// wins. "area:registry,area:monitor,level:MUST,!REG-003" selects the MUST cases of the registry and
// monitor areas except REG-003. An empty filter selects everything.
#ifndef NSMCERT_CONFORMANCE_RUNNER_SELECTION_H_
#define NSMCERT_CONFORMANCE_RUNNER_SELECTION_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "conformance/cases/case.h"
#include "conformance/cases/registry.h"

namespace nsmcert::conformance {

class CaseFilter {
 public:
  // INVALID_ARGUMENT quoting the term at fault (unknown kind, area, level or feature, empty term).
  static absl::StatusOr<CaseFilter> Parse(std::string_view expression);

  bool Matches(const CaseInfo& info) const;
  const std::string& text() const { return text_; }

 private:
  enum class Kind { kId, kArea, kLevel, kFeature };
  struct Term {
    Kind kind;
    std::string value;  // id glob in upper case, or area/level/feature name
  };

  static bool TermMatches(const Term& term, const CaseInfo& info);

  std::string text_;
  std::vector<Term> include_;
  std::vector<Term> exclude_;
};

// True when `text` matches `glob` ('*', '?'), ignoring ASCII case.
bool GlobMatches(std::string_view glob, std::string_view text);

// True when a case of `profile` belongs to a run of profile `run_profile` (core runs core cases;
// full runs all).
bool InProfile(Profile case_profile, Profile run_profile);

// The entries in the profile that match the filter, in the registry's (id) order.
std::vector<const CaseEntry*> SelectCases(const std::vector<const CaseEntry*>& entries,
                                          Profile profile, const CaseFilter& filter);

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_RUNNER_SELECTION_H_
