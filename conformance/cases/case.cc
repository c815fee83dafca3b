#include "conformance/cases/case.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "conformance/cases/features.h"
#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

absl::Status InfoError(const CaseInfo& info, std::string_view field, std::string_view message) {
  const std::string who = info.id.empty() ? std::string("case with empty id") : "case " + info.id;
  return absl::InvalidArgumentError(Cat(who, ": ", field, ": ", message));
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kMust:
      return "MUST";
    case Level::kShould:
      return "SHOULD";
    case Level::kMay:
      return "MAY";
  }
  return "?";
}

std::optional<Level> ParseLevel(std::string_view text) {
  for (Level level : {Level::kMust, Level::kShould, Level::kMay}) {
    if (EqualsIgnoreCase(text, LevelName(level))) return level;
  }
  return std::nullopt;
}

std::string_view AreaName(Area area) {
  switch (area) {
    case Area::kRegistry:
      return "registry";
    case Area::kConnectivity:
      return "connectivity";
    case Area::kSelection:
      return "selection";
    case Area::kContext:
      return "context";
    case Area::kMonitor:
      return "monitor";
    case Area::kHeal:
      return "heal";
    case Area::kNegative:
      return "negative";
  }
  return "?";
}

std::optional<Area> ParseArea(std::string_view text) {
  for (Area area : kAllAreas) {
    if (EqualsIgnoreCase(text, AreaName(area))) return area;
  }
  return std::nullopt;
}

std::string_view ProfileName(Profile profile) {
  switch (profile) {
    case Profile::kCore:
      return "core";
    case Profile::kFull:
      return "full";
  }
  return "?";
}

std::optional<Profile> ParseProfile(std::string_view text) {
  for (Profile profile : {Profile::kCore, Profile::kFull}) {
    if (EqualsIgnoreCase(text, ProfileName(profile))) return profile;
  }
  return std::nullopt;
}

bool IsValidCaseId(std::string_view id) {
  if (id.empty()) return false;
  std::vector<std::string_view> segments;
  std::size_t start = 0;
  while (true) {
    const std::size_t dash = id.find('-', start);
    segments.push_back(id.substr(start, dash == std::string_view::npos ? dash : dash - start));
    if (dash == std::string_view::npos) break;
    start = dash + 1;
  }
  if (segments.size() < 2) return false;
  for (std::string_view segment : segments) {
    if (segment.empty()) return false;
    for (char c : segment) {
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
    }
  }
  if (!(segments.front()[0] >= 'A' && segments.front()[0] <= 'Z')) return false;
  const std::string_view number = segments.back();
  return number.size() == 3 &&
         std::all_of(number.begin(), number.end(), [](char c) { return c >= '0' && c <= '9'; });
}

absl::Status ValidateCaseInfo(const CaseInfo& info) {
  if (!IsValidCaseId(info.id)) {
    return InfoError(info, "id",
                     Cat("\"", info.id,
                         "\" is not of the form AREA[-SUB...]-NNN (capitals and digits, "
                         "three-digit number), e.g. REG-001 or DP-KERNEL-002"));
  }
  if (info.title.empty()) return InfoError(info, "title", "must not be empty");
  if (info.title.find('\n') != std::string::npos) {
    return InfoError(info, "title", "must be one line");
  }
  if (info.spec.empty()) {
    return InfoError(info, "spec", "must name the spec section the case checks");
  }
  std::set<std::string_view> seen;
  for (const std::string& feature : info.features) {
    if (!IsKnownFeature(feature)) {
      return InfoError(info, "features",
                       Cat("unknown feature \"", feature,
                           "\" (add it to conformance/cases/features.cc if it is new)"));
    }
    if (!seen.insert(feature).second) {
      return InfoError(info, "features", Cat("\"", feature, "\" listed twice"));
    }
  }
  if (info.timeout < absl::ZeroDuration()) {
    return InfoError(info, "timeout", "must not be negative");
  }
  return absl::OkStatus();
}

absl::Status Case::Arrange(CaseContext&) { return absl::OkStatus(); }
absl::Status Case::Assert(CaseContext&) { return absl::OkStatus(); }

}  // namespace nsmcert::conformance
