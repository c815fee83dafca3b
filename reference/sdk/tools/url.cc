#include "reference/sdk/tools/url.h"

#include <cctype>
#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space when `plus_is_space`); nullopt for a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int high = HexValue(s[i + 1]);
      const int low = HexValue(s[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || !AllDigits(s)) return std::nullopt;
  uint64_t value = 0;
  for (char c : s) {
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

absl::Status Invalid(std::string_view text, std::string_view why) {
  return absl::InvalidArgumentError(Cat("URL \"", text, "\": ", why));
}

}  // namespace

absl::StatusOr<UrlParts> SplitUrl(std::string_view text) {
  UrlParts parts;
  // Scheme: a letter, then letters, digits, '+', '-', '.', up to ':'.
  size_t colon = 0;
  while (colon < text.size() && text[colon] != ':') {
    const char c = text[colon];
    const bool ok = std::isalpha(static_cast<unsigned char>(c)) ||
                    (colon > 0 && (std::isdigit(static_cast<unsigned char>(c)) || c == '+' ||
                                   c == '-' || c == '.'));
    if (!ok) return Invalid(text, "missing or malformed scheme");
    ++colon;
  }
  if (colon == 0 || colon == text.size()) return Invalid(text, "missing or malformed scheme");
  for (char c : text.substr(0, colon)) {
    parts.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string_view rest = text.substr(colon + 1);

  if (const size_t hash = rest.find('#'); hash != std::string_view::npos) {
    std::optional<std::string> fragment = PercentDecode(rest.substr(hash + 1), false);
    if (!fragment) return Invalid(text, "bad percent escape in fragment");
    parts.fragment = *fragment;
    rest = rest.substr(0, hash);
  }
  if (const size_t question = rest.find('?'); question != std::string_view::npos) {
    parts.raw_query = std::string(rest.substr(question + 1));
    rest = rest.substr(0, question);
  }

  if (rest.substr(0, 2) == "//") {
    parts.has_authority = true;
    rest.remove_prefix(2);
    const size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);

    if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
      const std::string_view userinfo = authority.substr(0, at);
      std::optional<std::string> user =
          PercentDecode(userinfo.substr(0, userinfo.find(':')), false);
      if (!user) return Invalid(text, "bad percent escape in user info");
      parts.user = *user;
      parts.has_user_info = true;
      authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority[0] == '[') {
      const size_t close = authority.find(']');
      if (close == std::string_view::npos) return Invalid(text, "missing ']' in host");
      host = authority.substr(1, close - 1);
      const std::string_view after = authority.substr(close + 1);
      if (!after.empty()) {
        if (after[0] != ':' || !AllDigits(after.substr(1))) {
          return Invalid(text, "invalid port after host");
        }
        port = after.substr(1);
      }
    } else if (const size_t last_colon = authority.rfind(':');
               last_colon != std::string_view::npos) {
      if (!AllDigits(authority.substr(last_colon + 1))) {
        return Invalid(text, "invalid port after host");
      }
      host = authority.substr(0, last_colon);
      port = authority.substr(last_colon + 1);
    }
    std::optional<std::string> decoded_host = PercentDecode(host, false);
    if (!decoded_host) return Invalid(text, "bad percent escape in host");
    parts.host = *decoded_host;
    parts.port = std::string(port);
  }
  std::optional<std::string> path = PercentDecode(rest, false);
  if (!path) return Invalid(text, "bad percent escape in path");
  parts.path = *path;
  return parts;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (std::string_view pair : internal::Split(raw_query, '&')) {
    if (pair.find(';') != std::string_view::npos) {
      return absl::InvalidArgumentError(
          Cat("query \"", raw_query, "\": invalid semicolon separator"));
    }
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    std::optional<std::string> key = PercentDecode(pair.substr(0, equals), true);
    std::optional<std::string> value =
        PercentDecode(equals == std::string_view::npos ? "" : pair.substr(equals + 1), true);
    if (!key || !value) {
      return absl::InvalidArgumentError(
          Cat("query \"", raw_query, "\": bad percent escape in \"", pair, "\""));
    }
    pairs.emplace_back(*std::move(key), *std::move(value));
  }
  return pairs;
}

absl::StatusOr<NsmUrl> ParseNsmUrl(std::string_view text) {
  absl::StatusOr<UrlParts> parts = SplitUrl(text);
  if (!parts.ok()) return parts.status();
  if (parts->has_user_info) {
    return Invalid(text, "user info is not allowed");
  }
  if (!parts->raw_query.empty() || text.find('?') != std::string_view::npos) {
    return Invalid(text, "a query is not allowed");
  }
  if (!parts->fragment.empty() || text.find('#') != std::string_view::npos) {
    return Invalid(text, "a fragment is not allowed");
  }
  NsmUrl url;
  if (parts->scheme == "unix") {
    url.scheme = NsmUrlScheme::kUnix;
    if (!parts->host.empty() || !parts->port.empty()) {
      return Invalid(text, "a unix URL has no host; write unix:///absolute/path");
    }
    if (parts->path.empty() || parts->path[0] != '/') {
      return Invalid(text, "a unix URL needs an absolute socket path");
    }
    if (parts->path.find('\0') != std::string::npos) return Invalid(text, "NUL in socket path");
    url.path = parts->path;
    return url;
  }
  if (parts->scheme == "tcp") {
    url.scheme = NsmUrlScheme::kTcp;
    if (!parts->has_authority) return Invalid(text, "a tcp URL needs //host:port");
    std::optional<uint64_t> port = ParseDecimal(parts->port);
    if (!port.has_value()) return Invalid(text, "a tcp URL needs a port");
    if (*port > 65535) return Invalid(text, "port out of range");
    if (!parts->path.empty() && parts->path != "/") return Invalid(text, "a tcp URL has no path");
    url.host = parts->host;
    url.port = static_cast<uint16_t>(*port);
    return url;
  }
  if (parts->scheme == "inode") {
    url.scheme = NsmUrlScheme::kInode;
    std::optional<uint64_t> device = ParseDecimal(parts->host);
    std::optional<uint64_t> inode = parts->path.size() > 1
                                        ? ParseDecimal(std::string_view(parts->path).substr(1))
                                        : std::nullopt;
    if (!parts->has_authority || !parts->port.empty() || !device.has_value() ||
        !inode.has_value()) {
      return Invalid(text, "an inode URL is inode://<device>/<inode> in decimal");
    }
    url.device = *device;
    url.inode = *inode;
    return url;
  }
  return Invalid(text,
                 Cat("unsupported scheme \"", parts->scheme, "\" (expected unix, tcp or inode)"));
}

std::string FormatNsmUrl(const NsmUrl& url) {
  switch (url.scheme) {
    case NsmUrlScheme::kUnix:
      return Cat("unix://", url.path);
    case NsmUrlScheme::kTcp:
      if (url.host.find(':') != std::string::npos) return Cat("tcp://[", url.host, "]:", url.port);
      return Cat("tcp://", url.host, ":", url.port);
    case NsmUrlScheme::kInode:
      return Cat("inode://", url.device, "/", url.inode);
  }
  return "";
}

absl::StatusOr<std::string> GrpcDialTarget(const NsmUrl& url) {
  switch (url.scheme) {
    case NsmUrlScheme::kUnix:
      return Cat("unix:", url.path);
    case NsmUrlScheme::kTcp:
      if (url.host.empty()) {
        return absl::FailedPreconditionError(
            Cat("cannot dial ", FormatNsmUrl(url), ": the URL has no host"));
      }
      if (url.host.find(':') != std::string::npos) return Cat("[", url.host, "]:", url.port);
      return Cat(url.host, ":", url.port);
    case NsmUrlScheme::kInode:
      break;
  }
  return absl::FailedPreconditionError(
      Cat("cannot dial ", FormatNsmUrl(url), " directly: resolve the received descriptor first"));
}

absl::StatusOr<std::string> GrpcListenAddress(const NsmUrl& url) {
  switch (url.scheme) {
    case NsmUrlScheme::kUnix:
      return Cat("unix:", url.path);
    case NsmUrlScheme::kTcp:
      if (url.host.empty()) return Cat("0.0.0.0:", url.port);
      if (url.host.find(':') != std::string::npos) return Cat("[", url.host, "]:", url.port);
      return Cat(url.host, ":", url.port);
    case NsmUrlScheme::kInode:
      break;
  }
  return absl::FailedPreconditionError(Cat("cannot listen on ", FormatNsmUrl(url)));
}

bool IsLocalUrl(const NsmUrl& url) {
  return url.scheme == NsmUrlScheme::kUnix || url.scheme == NsmUrlScheme::kInode;
}

bool IsLocalUrlText(std::string_view url) {
  const size_t colon = url.find(':');
  if (colon == std::string_view::npos) return false;
  std::string scheme;
  for (char c : url.substr(0, colon)) {
    scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return scheme == "unix" || scheme == "inode";
}

}  // namespace nsmcert::sdk::tools
