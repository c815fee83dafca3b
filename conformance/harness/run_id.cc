#include "conformance/harness/run_id.h"

#include <string>

#include "absl/random/random.h"
#include "absl/status/status.h"
#include "conformance/harness/str_util.h"

namespace nsmcert::harness {
namespace {

constexpr std::string_view kAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

bool IsRunIdChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

}  // namespace

RunId RunId::Generate() {
  // absl::BitGen seeds itself from the OS per instance, so two processes started together still
  // get independent ids.
  absl::BitGen gen;
  std::string id(kRunIdLength, ' ');
  for (char& c : id) c = kAlphabet[absl::Uniform<std::size_t>(gen, 0, kAlphabet.size())];
  return RunId(std::move(id));
}

absl::StatusOr<RunId> RunId::Parse(std::string_view text) {
  if (text.size() != kRunIdLength) {
    return absl::InvalidArgumentError(
        internal::Cat("run id \"", text, "\" must be ", kRunIdLength, " characters"));
  }
  for (char c : text) {
    if (!IsRunIdChar(c)) {
      return absl::InvalidArgumentError(
          internal::Cat("run id \"", text, "\" may hold only a-z and 0-9"));
    }
  }
  return RunId(std::string(text));
}

std::string RunId::NamespacePrefix() const { return internal::Cat(kHarnessNamePrefix, id_, "-"); }

std::string RunId::NamespaceName(std::string_view element) const {
  return internal::Cat(NamespacePrefix(), element);
}

std::optional<RunId> RunIdOfNamespace(std::string_view namespace_name) {
  if (!namespace_name.starts_with(kHarnessNamePrefix)) return std::nullopt;
  const std::string_view rest = namespace_name.substr(kHarnessNamePrefix.size());
  if (rest.size() < kRunIdLength + 2 || rest[kRunIdLength] != '-') return std::nullopt;
  auto id = RunId::Parse(rest.substr(0, kRunIdLength));
  if (!id.ok()) return std::nullopt;
  return *id;
}

}  // namespace nsmcert::harness
