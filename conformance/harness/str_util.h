// String building for the harness's messages. Debian's Abseil has its own absl::string_view, not
// std::string_view, so absl::StrCat does not take std::string_view arguments; Cat/Append convert
// them and forward everything else to Abseil.
#ifndef NSMCERT_CONFORMANCE_HARNESS_STR_UTIL_H_
#define NSMCERT_CONFORMANCE_HARNESS_STR_UTIL_H_

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace nsmcert::harness::internal {

template <class T>
decltype(auto) ForAbsl(const T& value) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> &&
                !std::is_convertible_v<const T&, absl::string_view>) {
    const std::string_view view = value;
    return absl::string_view(view.data(), view.size());
  } else {
    return (value);
  }
}

// absl::StrCat that also accepts std::string_view.
template <class... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(ForAbsl(args)...);
}

// absl::StrAppend that also accepts std::string_view.
template <class... Args>
void Append(std::string* out, const Args&... args) {
  absl::StrAppend(out, ForAbsl(args)...);
}

// Joins the elements of `range` (anything Cat accepts) with `separator`.
template <class Range>
std::string Join(const Range& range, std::string_view separator) {
  std::string out;
  bool first = true;
  for (const auto& element : range) {
    if (!first) Append(&out, separator);
    Append(&out, element);
    first = false;
  }
  return out;
}

}  // namespace nsmcert::harness::internal

#endif  // NSMCERT_CONFORMANCE_HARNESS_STR_UTIL_H_
