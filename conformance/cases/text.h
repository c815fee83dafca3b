// Small string helpers shared by the conformance framework (cases, runner, reports).
//
// Debian's Abseil has its own absl::string_view, distinct from std::string_view, so absl::StrCat
// does not accept std::string_view arguments; Cat accepts strings, string views, C strings, chars,
// integers and floating point (printed with up to 6 significant digits) and needs no conversion.
#ifndef NSMCERT_CONFORMANCE_CASES_TEXT_H_
#define NSMCERT_CONFORMANCE_CASES_TEXT_H_

#include <concepts>
#include <cstdio>
#include <string>
#include <string_view>
#include <type_traits>

namespace nsmcert::conformance {

namespace text_internal {

inline void AppendOne(std::string& out, std::string_view value) { out.append(value); }
inline void AppendOne(std::string& out, const char* value) { out.append(value ? value : ""); }
inline void AppendOne(std::string& out, char value) { out.push_back(value); }
inline void AppendOne(std::string& out, bool value) { out.append(value ? "true" : "false"); }
template <std::integral T>
requires(!std::same_as<T, char> && !std::same_as<T, bool>) void AppendOne(std::string& out,
                                                                          T value) {
  out.append(std::to_string(value));
}
template <std::floating_point T>
void AppendOne(std::string& out, T value) {
  char buffer[32];
  const int n = std::snprintf(buffer, sizeof buffer, "%g", static_cast<double>(value));
  out.append(buffer, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace text_internal

// Concatenates the arguments into a new string.
template <class... Args>
std::string Cat(const Args&... args) {
  std::string out;
  (text_internal::AppendOne(out, args), ...);
  return out;
}

// Appends the arguments to `out`.
template <class... Args>
void Append(std::string& out, const Args&... args) {
  (text_internal::AppendOne(out, args), ...);
}

// Joins the elements of `range` (each anything Cat accepts) with `separator`.
template <class Range>
std::string Join(const Range& range, std::string_view separator) {
  std::string out;
  bool first = true;
  for (const auto& element : range) {
    if (!first) out.append(separator);
    text_internal::AppendOne(out, element);
    first = false;
  }
  return out;
}

}  // namespace nsmcert::conformance

#endif  // NSMCERT_CONFORMANCE_CASES_TEXT_H_
