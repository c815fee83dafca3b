// A conformance case: its metadata (CaseInfo) and its three phases (Case).
//
// A case checks one requirement of the NSM contract against whatever implementation the manifest
// describes, judging only what it can observe: gRPC replies, monitor streams, registry contents,
// kernel state in namespaces and captured packets. Cases live in conformance/cases/<area>/, one
// file each, and register themselves with NSMCERT_REGISTER_CASE (registry.h).
//
// Phases run in order on one thread: Arrange (build the topology, start roles), Act (the stimulus),
// Assert (compare what was observed with what the spec says). Each returns an absl::Status:
//   - OK: go on to the next phase (after Assert: the case passed, unless a soft check failed);
//   - CaseFailure(...) (check.h): the implementation did not do what the spec requires -> "fail";
//   - CaseSkip(...): the case cannot be judged here (say, no root) -> "skip";
//   - any other error: the harness itself broke (setup failed, a file could not be written)
//     -> "error". So wrap what the implementation answered in a CaseFailure; return other errors
//     only for the harness's own trouble.
// A thrown exception is also reported as "error"; it does not end the run.
//
// Teardown is RAII: whatever a phase builds is held by the case object, which the runner destroys
// after the last phase ran (also after a failure or a timeout), so topologies and processes go
// away in destructors. A case must watch CaseContext::cancelled() and the deadline in long waits:
// the runner cancels a case that outlives its timeout and then, after a grace period, kills the
// process it runs in.
#ifndef NSMCERT_CONFORMANCE_CASES_CASE_H_
#define NSMCERT_CONFORMANCE_CASES_CASE_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace nsmcert::conformance {

class CaseContext;

// RFC 2119 requirement level. Only MUST cases decide the exit code.
enum class Level { kMust, kShould, kMay };
std::string_view LevelName(Level level);                 // "MUST", "SHOULD", "MAY"
std::optional<Level> ParseLevel(std::string_view text);  // case-insensitive

// The part of the contract a case checks (spec §14 A-G).
enum class Area { kRegistry, kConnectivity, kSelection, kContext, kMonitor, kHeal, kNegative };
std::string_view AreaName(Area area);                  // "registry", "connectivity", ...
std::optional<Area> ParseArea(std::string_view text);  // case-insensitive
inline constexpr Area kAllAreas[] = {Area::kRegistry, Area::kConnectivity, Area::kSelection,
                                     Area::kContext,  Area::kMonitor,      Area::kHeal,
                                     Area::kNegative};

// "core" cases are the quick set CI runs on every change; "full" adds slow or exotic ones. A run
// with profile full runs both.
enum class Profile { kCore, kFull };
std::string_view ProfileName(Profile profile);  // "core", "full"
std::optional<Profile> ParseProfile(std::string_view text);

// What `nsmcert list` shows and results.json records about a case.
struct CaseInfo {
  // Stable forever once published: AREA[-SUB...]-NNN in capitals and digits, e.g. "REG-001",
  // "DP-KERNEL-002". Never reuse the id of a removed case.
  std::string id;
  std::string title;  // one line, what is checked
  Level level = Level::kMust;
  Area area = Area::kRegistry;
  // Features (features.h) the implementation must claim for the case to apply.
  std::vector<std::string> features;
  std::string spec;  // the spec section checked, e.g. "§8.2, §14 A.1"
  Profile profile = Profile::kCore;
  // Per-case timeout; zero means the runner's default.
  absl::Duration timeout = absl::ZeroDuration();
};

// INVALID_ARGUMENT naming the case and the field when `info` breaks the rules above (id syntax,
// empty title or spec, unknown or repeated feature, negative timeout).
absl::Status ValidateCaseInfo(const CaseInfo& info);

// True when `id` has the form AREA[-SUB...]-NNN: segments of [A-Z0-9] joined by '-', the first
// starting with a letter, the last exactly three digits.
bool IsValidCaseId(std::string_view id);

// The phases of a case. The runner creates a fresh object per execution (CaseRegistry's factory)
// and calls Arrange, Act and Assert on one thread, stopping at the first non-OK status.
class Case {
 public:
  virtual ~Case() = default;
  // Builds what the case needs. Default: nothing.
  virtual absl::Status Arrange(CaseContext& context);
  // Applies the stimulus.
  virtual absl::Status Act(CaseContext& context) = 0;
  // Compares observations with the contract. Default: nothing more to check (Act judged).
  virtual absl::Status Assert(CaseContext& context);
};

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_CASE_H_
