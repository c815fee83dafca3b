// String building for error messages. Debian's Abseil keeps its own absl::string_view (not an
// alias of std::string_view), so absl::StrCat does not take the std::string_view this library's
// API uses; this small helper does.
#ifndef NSMCERT_REFERENCE_KERNEL_STR_UTIL_H_
#define NSMCERT_REFERENCE_KERNEL_STR_UTIL_H_

#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace nsmcert::kernel::internal {

inline void AppendOne(std::string& out, std::string_view s) { out.append(s); }
inline void AppendOne(std::string& out, const std::string& s) { out.append(s); }
inline void AppendOne(std::string& out, const char* s) { out.append(s); }
inline void AppendOne(std::string& out, absl::string_view s) { out.append(s.data(), s.size()); }
inline void AppendOne(std::string& out, char c) { out.push_back(c); }
template <class T>
requires(std::integral<T> && !std::same_as<T, char> &&
         !std::same_as<T, bool>) void AppendOne(std::string& out, T v) {
  if constexpr (sizeof(T) == 1) {
    out.append(std::to_string(static_cast<int>(v)));
  } else {
    out.append(std::to_string(v));
  }
}

// Appends every argument (strings, string views, chars, integers) to `out`.
template <class... Args>
void Append(std::string& out, const Args&... args) {
  (AppendOne(out, args), ...);
}

// Concatenates every argument into a new string.
template <class... Args>
std::string Cat(const Args&... args) {
  std::string out;
  Append(out, args...);
  return out;
}

}  // namespace nsmcert::kernel::internal

#endif  // NSMCERT_REFERENCE_KERNEL_STR_UTIL_H_
