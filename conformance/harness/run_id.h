// Run ids and the names derived from them.
//
// Every kernel object a harness run creates outside its own namespaces is a named network namespace
// called "nsmc-<run id>-<element>" (element: "fabric", a node or a workload name). The run id is a
// short random token, so parallel runs never collide, and the prefix lets a sweep recognise
// leftovers of runs that died (see run_marker.h, sweep.h).
#ifndef NSMCERT_CONFORMANCE_HARNESS_RUN_ID_H_
#define NSMCERT_CONFORMANCE_HARNESS_RUN_ID_H_

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace nsmcert::harness {

// Every namespace name the harness creates starts with this.
inline constexpr std::string_view kHarnessNamePrefix = "nsmc-";
// Run ids are this many characters of [a-z0-9].
inline constexpr std::size_t kRunIdLength = 6;

class RunId {
 public:
  // A fresh random id (36^6 ≈ 2·10^9 values).
  static RunId Generate();
  // Accepts exactly kRunIdLength characters of [a-z0-9]; INVALID_ARGUMENT quotes the text.
  static absl::StatusOr<RunId> Parse(std::string_view text);

  const std::string& str() const { return id_; }
  // "nsmc-<id>-": the prefix of every namespace of this run.
  std::string NamespacePrefix() const;
  // "nsmc-<id>-<element>".
  std::string NamespaceName(std::string_view element) const;

  friend bool operator==(const RunId&, const RunId&) = default;

 private:
  explicit RunId(std::string id) : id_(std::move(id)) {}
  std::string id_;
};

// The run id of a harness namespace name ("nsmc-<id>-..."), or nullopt for any other name.
std::optional<RunId> RunIdOfNamespace(std::string_view namespace_name);

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_RUN_ID_H_
