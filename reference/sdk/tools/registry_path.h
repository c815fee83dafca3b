// The registry's private path (spec §8.5): carried as JSON in the `path` gRPC metadata of registry
// Register/Unregister calls and returned in the response header, plus the rules a registry server
// hop applies to it and to the resource's `path_ids`.
//
// Wire form, as upstream's Go encoding/json writes it:
//   {"Index":1,"PathSegments":[{"token":"<jwt>"},{"token":"<jwt>"}]}
// (`"PathSegments":null` for an empty path). Older upstream releases wrote segments as
// {"Name":..,"ID":..,"Token":..,"Expires":..}; Go matches JSON keys case-insensitively, so
// parsing does too and ignores the other keys.
//
// Functions are pure and thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace nsmcert::sdk::tools {

struct RegistryPath {
  uint32_t index = 0;
  std::vector<std::string> tokens;  // one per path segment

  friend bool operator==(const RegistryPath&, const RegistryPath&) = default;
};

// Parses the metadata value. InvalidArgument for non-JSON text, a non-object, a negative or
// non-integer index, or a segment that is not an object / whose token is not a string. A missing
// token reads as "".
absl::StatusOr<RegistryPath> ParseRegistryPathJson(std::string_view json);

// Writes the metadata value in upstream's form.
std::string FormatRegistryPathJson(const RegistryPath& path);

// The registry updatepath step of a server hop (spec §8.5): an empty path becomes
// [peer token, own token] with index 1; otherwise index+1 must not exceed the segment count (else
// InvalidArgument), the caller's segment takes `peer_token`, the index moves on, and the segment
// there takes `own_token` (appended when the path ends there, overwritten on a refresh). Returns
// the caller's index to restore before replying.
absl::StatusOr<uint32_t> UpdateRegistryPath(RegistryPath& path, std::string_view peer_token,
                                            std::string_view own_token);

// Sets path_ids[position] = id, appending when `position` is at or past the end (upstream appends
// rather than padding).
void SetPathId(google::protobuf::RepeatedPtrField<std::string>& path_ids, size_t position,
               std::string id);

// The path_ids step that goes with UpdateRegistryPath, for a path already updated (index >= 1):
// path_ids[index-1] = SPIFFE ID from the peer token's `sub`, path_ids[index] = SPIFFE ID from the
// own token's `sub`, read without verifying the tokens. A peer token that yields no SPIFFE ID
// writes "" (upstream logs and carries on); an own token that yields none is an error
// (InvalidArgument), which fails the registration as upstream does.
absl::Status UpdatePathIds(google::protobuf::RepeatedPtrField<std::string>& path_ids,
                           const RegistryPath& updated_path, std::string_view peer_token,
                           std::string_view own_token);

}  // namespace nsmcert::sdk::tools
