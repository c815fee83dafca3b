// String helpers for this library's implementation files. Debian's Abseil keeps its own
// absl::string_view (not an alias of std::string_view), so absl::StrCat and friends do not take the
// std::string_view the public API uses; these wrappers convert.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace nsmcert::sdk::tools::internal {

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}
inline std::string_view ToStd(absl::string_view s) { return std::string_view(s.data(), s.size()); }

template <class T>
const T& CatArg(const T& value) {
  return value;
}
inline absl::string_view CatArg(std::string_view value) { return ToAbsl(value); }

// absl::StrCat / absl::StrAppend that also take std::string_view.
template <class... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(CatArg(args)...);
}
template <class... Args>
void Append(std::string* out, const Args&... args) {
  absl::StrAppend(out, CatArg(args)...);
}

// Splits on `separator`, keeping empty pieces ("a,,b" -> {"a", "", "b"}; "" -> {""}).
inline std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace nsmcert::sdk::tools::internal
