#include "conformance/runner/selection.h"

#include <algorithm>
#include <cctype>

#include "conformance/cases/features.h"
#include "conformance/cases/text.h"

namespace nsmcert::conformance {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

std::string Upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool GlobMatches(std::string_view glob, std::string_view text) {
  // Iterative matcher with one backtrack point for the last '*': linear in practice.
  std::size_t g = 0;
  std::size_t t = 0;
  std::size_t star = std::string_view::npos;
  std::size_t star_text = 0;
  const auto same = [](char a, char b) {
    return std::toupper(static_cast<unsigned char>(a)) ==
           std::toupper(static_cast<unsigned char>(b));
  };
  while (t < text.size()) {
    if (g < glob.size() && (glob[g] == '?' || (glob[g] != '*' && same(glob[g], text[t])))) {
      ++g;
      ++t;
    } else if (g < glob.size() && glob[g] == '*') {
      star = g++;
      star_text = t;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      t = ++star_text;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

absl::StatusOr<CaseFilter> CaseFilter::Parse(std::string_view expression) {
  CaseFilter filter;
  filter.text_ = std::string(Trim(expression));
  if (filter.text_.empty()) return filter;
  std::size_t start = 0;
  const std::string_view text = filter.text_;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
    std::string_view term = Trim(text.substr(start, end - start));
    start = end + 1;
    if (term.empty()) {
      return absl::InvalidArgumentError(
          Cat("filter \"", text, "\": empty term (two commas in a row, or a trailing comma)"));
    }
    const bool exclude = term.front() == '!';
    if (exclude) term = Trim(term.substr(1));
    Term parsed{Kind::kId, ""};
    const std::size_t colon = term.find(':');
    const std::string_view kind = colon == std::string_view::npos ? "id" : term.substr(0, colon);
    const std::string_view value =
        colon == std::string_view::npos ? term : Trim(term.substr(colon + 1));
    if (value.empty()) {
      return absl::InvalidArgumentError(Cat("filter term \"", term, "\": nothing after the kind"));
    }
    if (kind == "id") {
      parsed = {Kind::kId, Upper(value)};
    } else if (kind == "area") {
      const auto area = ParseArea(value);
      if (!area) {
        std::vector<std::string_view> names;
        for (Area a : kAllAreas) names.push_back(AreaName(a));
        return absl::InvalidArgumentError(
            Cat("filter term \"", term, "\": unknown area (one of ", Join(names, ", "), ")"));
      }
      parsed = {Kind::kArea, std::string(AreaName(*area))};
    } else if (kind == "level") {
      const auto level = ParseLevel(value);
      if (!level) {
        return absl::InvalidArgumentError(
            Cat("filter term \"", term, "\": unknown level (MUST, SHOULD or MAY)"));
      }
      parsed = {Kind::kLevel, std::string(LevelName(*level))};
    } else if (kind == "feature") {
      if (!IsKnownFeature(value)) {
        return absl::InvalidArgumentError(Cat("filter term \"", term, "\": unknown feature"));
      }
      parsed = {Kind::kFeature, std::string(value)};
    } else {
      return absl::InvalidArgumentError(Cat("filter term \"", term, "\": unknown kind \"", kind,
                                            "\" (id, area, level or feature)"));
    }
    (exclude ? filter.exclude_ : filter.include_).push_back(std::move(parsed));
    if (comma == std::string_view::npos) break;
  }
  return filter;
}

bool CaseFilter::TermMatches(const Term& term, const CaseInfo& info) {
  switch (term.kind) {
    case Kind::kId:
      return GlobMatches(term.value, info.id);
    case Kind::kArea:
      return AreaName(info.area) == term.value;
    case Kind::kLevel:
      return LevelName(info.level) == term.value;
    case Kind::kFeature:
      return std::find(info.features.begin(), info.features.end(), term.value) !=
             info.features.end();
  }
  return false;
}

bool CaseFilter::Matches(const CaseInfo& info) const {
  for (const Term& term : exclude_) {
    if (TermMatches(term, info)) return false;
  }
  for (Kind kind : {Kind::kId, Kind::kArea, Kind::kLevel, Kind::kFeature}) {
    bool any_of_kind = false;
    bool matched = false;
    for (const Term& term : include_) {
      if (term.kind != kind) continue;
      any_of_kind = true;
      matched = matched || TermMatches(term, info);
    }
    if (any_of_kind && !matched) return false;
  }
  return true;
}

bool InProfile(Profile case_profile, Profile run_profile) {
  return run_profile == Profile::kFull || case_profile == Profile::kCore;
}

std::vector<const CaseEntry*> SelectCases(const std::vector<const CaseEntry*>& entries,
                                          Profile profile, const CaseFilter& filter) {
  std::vector<const CaseEntry*> selected;
  for (const CaseEntry* entry : entries) {
    if (InProfile(entry->info.profile, profile) && filter.Matches(entry->info)) {
      selected.push_back(entry);
    }
  }
  return selected;
}

}  // namespace nsmcert::conformance
