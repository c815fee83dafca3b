// SPIFFE IDs (`spiffe://trust-domain/path`), the identities NSM puts in token `sub`/`aud` claims
// and registry `path_ids`. Validation follows the SPIFFE ID specification as go-spiffe enforces
// it, so an ID we accept is one upstream components accept too.
//
// Values are immutable and thread-compatible.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace nsmcert::sdk::tools {

// Trust domain: non-empty; lowercase ASCII letters, digits, '.', '-', '_' only.
absl::Status ValidateSpiffeTrustDomain(std::string_view trust_domain);

// Path: empty, or '/'-separated non-empty segments, none of them "." or "..", no trailing '/';
// segment characters are ASCII letters, digits, '.', '-', '_'.
absl::Status ValidateSpiffePath(std::string_view path);

class SpiffeId {
 public:
  // Parses `spiffe://<trust domain><path>`. The scheme is case-sensitive; ports, user info, query
  // and fragment are not allowed (their characters are invalid in both parts). Errors are
  // InvalidArgument and say which rule the text breaks.
  static absl::StatusOr<SpiffeId> Parse(std::string_view text);
  // Builds an ID from a trust domain and a path (empty or starting with '/').
  static absl::StatusOr<SpiffeId> FromParts(std::string_view trust_domain, std::string_view path);

  const std::string& trust_domain() const { return trust_domain_; }
  const std::string& path() const { return path_; }
  // `spiffe://trust-domain/path`.
  std::string ToString() const;

  friend bool operator==(const SpiffeId& a, const SpiffeId& b) {
    return a.trust_domain_ == b.trust_domain_ && a.path_ == b.path_;
  }
  friend bool operator!=(const SpiffeId& a, const SpiffeId& b) { return !(a == b); }

 private:
  SpiffeId(std::string trust_domain, std::string path)
      : trust_domain_(std::move(trust_domain)), path_(std::move(path)) {}

  std::string trust_domain_;
  std::string path_;
};

}  // namespace nsmcert::sdk::tools
