// Bridges std::string_view into absl's string functions. Debian's Abseil has its own
// absl::string_view type (not an alias of std::string_view), so absl::StrCat does not accept the
// std::string_view this library's API uses. Internal to pcap/.
#pragma once

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace nsmcert::pcap::internal {

inline absl::string_view Piece(std::string_view s) { return absl::string_view(s.data(), s.size()); }
template <typename T>
const T& Piece(const T& value) {
  return value;
}

// absl::StrCat that also takes std::string_view.
template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(Piece(args)...);
}

// absl::StrAppend that also takes std::string_view.
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  absl::StrAppend(out, Piece(args)...);
}

}  // namespace nsmcert::pcap::internal
