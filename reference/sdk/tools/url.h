// URLs: the NSM endpoint URLs daemons listen on, dial and register (`unix:///abs/path`,
// `tcp://host:port`, `inode://dev/ino`; spec §2.1, §2.5, §9.5), and the generic URL splitting
// they and NSURLs (mechanism_params.h) share, following Go's net/url where it matters.
//
// Pure functions; values are plain structs.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace nsmcert::sdk::tools {

// A URL split as Go's url.Parse splits it.
struct UrlParts {
  std::string scheme;          // lowercased
  bool has_authority = false;  // "//" followed the scheme
  bool has_user_info = false;  // the authority had a `user@` part
  std::string user;            // user name of the user info, percent-decoded
  std::string host;            // host name; IPv6 without brackets
  std::string port;            // decimal digits, possibly empty
  std::string path;            // percent-decoded
  std::string raw_query;       // after '?', before '#'
  std::string fragment;        // after '#', percent-decoded
};

// InvalidArgument (quoting the text) for a missing or malformed scheme, a bad percent escape, an
// unclosed IPv6 bracket or a non-numeric port.
absl::StatusOr<UrlParts> SplitUrl(std::string_view text);

// Parses a query string as Go's url.ParseQuery: `&`-separated `key=value` pairs (`key` alone means
// an empty value), `+` is a space, percent escapes decoded; pairs keep their order. `;` separators
// and bad escapes are InvalidArgument.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    std::string_view raw_query);

enum class NsmUrlScheme { kUnix, kTcp, kInode };

struct NsmUrl {
  NsmUrlScheme scheme = NsmUrlScheme::kUnix;
  std::string path;     // kUnix: absolute socket path
  std::string host;     // kTcp: host name or address, IPv6 without brackets; empty = any
  uint16_t port = 0;    // kTcp
  uint64_t device = 0;  // kInode: st_dev
  uint64_t inode = 0;   // kInode: st_ino

  friend bool operator==(const NsmUrl&, const NsmUrl&) = default;
};

// Accepts `unix:///abs/path` (also `unix:/abs/path`), `tcp://host:port` (`tcp://:5001` = any
// address, `tcp://[fd00::1]:5001`), `inode://<dev>/<ino>` (decimal). Rejects anything else with an
// InvalidArgument that says what is wrong: other schemes, relative unix paths, a unix URL with a
// host, a tcp URL without a port or with a path, user info, query or fragment.
absl::StatusOr<NsmUrl> ParseNsmUrl(std::string_view text);

// Canonical text: `unix:///abs/path`, `tcp://host:port` (`[v6]:port`), `inode://dev/ino`.
std::string FormatNsmUrl(const NsmUrl& url);

// The target to dial with gRPC: `unix:/abs/path` or `host:port` (`[v6]:port`).
// FailedPrecondition for an inode URL (it names a file descriptor received over a unix socket
// and must first be resolved to a path) and for a tcp URL without a host.
absl::StatusOr<std::string> GrpcDialTarget(const NsmUrl& url);

// The address to listen on with gRPC: `unix:/abs/path`, or `host:port` with an empty host meaning
// all IPv4 interfaces (`0.0.0.0:port`). FailedPrecondition for an inode URL.
absl::StatusOr<std::string> GrpcListenAddress(const NsmUrl& url);

// Local vs remote (spec §9.5): unix and inode URLs are local to the node; anything else (tcp) is a
// remote nsmgr.
bool IsLocalUrl(const NsmUrl& url);
// The same rule on URL text, by its scheme alone (case-insensitive), for URLs from peers that may
// not parse as NsmUrl.
bool IsLocalUrlText(std::string_view url);

}  // namespace nsmcert::sdk::tools
