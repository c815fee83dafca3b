#include "reference/sdk/tools/spiffe_id.h"

#include <utility>

#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

constexpr std::string_view kScheme = "spiffe://";

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathSegmentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

absl::Status ValidateSpiffeTrustDomain(std::string_view trust_domain) {
  if (trust_domain.empty()) return absl::InvalidArgumentError("SPIFFE trust domain is missing");
  for (char c : trust_domain) {
    if (!IsTrustDomainChar(c)) {
      return absl::InvalidArgumentError(
          internal::Cat("SPIFFE trust domain \"", trust_domain,
                        "\": characters are limited to lowercase letters, numbers, dots, dashes "
                        "and underscores"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSpiffePath(std::string_view path) {
  if (path.empty()) return absl::OkStatus();
  if (path[0] != '/') {
    return absl::InvalidArgumentError(
        internal::Cat("SPIFFE path \"", path, "\": must be empty or start with '/'"));
  }
  size_t segment_start = 1;
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i < path.size() && path[i] != '/') {
      if (!IsPathSegmentChar(path[i])) {
        return absl::InvalidArgumentError(internal::Cat(
            "SPIFFE path \"", path,
            "\": segment characters are limited to letters, numbers, dots, dashes and "
            "underscores"));
      }
      continue;
    }
    const std::string_view segment = path.substr(segment_start, i - segment_start);
    if (segment.empty()) {
      return absl::InvalidArgumentError(internal::Cat("SPIFFE path \"", path,
                                                      i == path.size()
                                                          ? "\": cannot have a trailing slash"
                                                          : "\": cannot contain empty "
                                                            "segments"));
    }
    if (segment == "." || segment == "..") {
      return absl::InvalidArgumentError(
          internal::Cat("SPIFFE path \"", path, "\": cannot contain dot segments"));
    }
    segment_start = i + 1;
  }
  return absl::OkStatus();
}

absl::StatusOr<SpiffeId> SpiffeId::Parse(std::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError("SPIFFE ID is empty");
  if (!text.starts_with(kScheme)) {
    return absl::InvalidArgumentError(
        internal::Cat("SPIFFE ID \"", text, "\": scheme is missing or invalid"));
  }
  const std::string_view rest = text.substr(kScheme.size());
  const size_t slash = rest.find('/');
  const std::string_view trust_domain = rest.substr(0, slash);
  const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (absl::Status s = ValidateSpiffeTrustDomain(trust_domain); !s.ok()) {
    return absl::InvalidArgumentError(internal::Cat("SPIFFE ID \"", text, "\": ", s.message()));
  }
  if (absl::Status s = ValidateSpiffePath(path); !s.ok()) {
    return absl::InvalidArgumentError(internal::Cat("SPIFFE ID \"", text, "\": ", s.message()));
  }
  return SpiffeId(std::string(trust_domain), std::string(path));
}

absl::StatusOr<SpiffeId> SpiffeId::FromParts(std::string_view trust_domain, std::string_view path) {
  if (absl::Status s = ValidateSpiffeTrustDomain(trust_domain); !s.ok()) return s;
  if (absl::Status s = ValidateSpiffePath(path); !s.ok()) return s;
  return SpiffeId(std::string(trust_domain), std::string(path));
}

std::string SpiffeId::ToString() const { return internal::Cat(kScheme, trust_domain_, path_); }

}  // namespace nsmcert::sdk::tools
