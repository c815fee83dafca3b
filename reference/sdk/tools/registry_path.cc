#include "reference/sdk/tools/registry_path.h"

#include <cctype>
#include <exception>

#include "nlohmann/json.hpp"
#include "reference/sdk/tools/internal/strings.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;
using Json = nlohmann::json;

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Go's encoding/json prefers an exact key match, then a case-insensitive one.
const Json* FindKey(const Json& object, std::string_view key) {
  if (auto it = object.find(std::string(key)); it != object.end()) return &*it;
  for (auto it = object.begin(); it != object.end(); ++it) {
    if (EqualsIgnoreCase(it.key(), key)) return &it.value();
  }
  return nullptr;
}

absl::StatusOr<RegistryPath> FromJson(const Json& json) {
  if (!json.is_object()) return absl::InvalidArgumentError("registry path is not a JSON object");
  RegistryPath path;
  if (const Json* index = FindKey(json, "Index"); index != nullptr && !index->is_null()) {
    if (index->is_number_unsigned() || (index->is_number_integer() && index->get<int64_t>() >= 0)) {
      const uint64_t value = index->get<uint64_t>();
      if (value > UINT32_MAX) return absl::InvalidArgumentError("registry path Index overflows");
      path.index = static_cast<uint32_t>(value);
    } else {
      return absl::InvalidArgumentError("registry path Index is not a non-negative integer");
    }
  }
  if (const Json* segments = FindKey(json, "PathSegments");
      segments != nullptr && !segments->is_null()) {
    if (!segments->is_array()) {
      return absl::InvalidArgumentError("registry path PathSegments is not an array");
    }
    for (size_t i = 0; i < segments->size(); ++i) {
      const Json& segment = (*segments)[i];
      if (segment.is_null()) {
        path.tokens.emplace_back();
        continue;
      }
      if (!segment.is_object()) {
        return absl::InvalidArgumentError(Cat("registry path segment ", i, " is not an object"));
      }
      const Json* token = FindKey(segment, "token");
      if (token == nullptr || token->is_null()) {
        path.tokens.emplace_back();
      } else if (token->is_string()) {
        path.tokens.push_back(token->get<std::string>());
      } else {
        return absl::InvalidArgumentError(
            Cat("registry path segment ", i, " token is not a string"));
      }
    }
  }
  return path;
}

}  // namespace

absl::StatusOr<RegistryPath> ParseRegistryPathJson(std::string_view text) {
  try {
    const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (json.is_discarded()) return absl::InvalidArgumentError("registry path is not valid JSON");
    return FromJson(json);
  } catch (const std::exception& e) {
    // The checks above keep this unreachable; no exception leaves the library.
    return absl::InvalidArgumentError(Cat("registry path JSON: ", e.what()));
  }
}

std::string FormatRegistryPathJson(const RegistryPath& path) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  json["Index"] = path.index;
  if (path.tokens.empty()) {
    json["PathSegments"] = nullptr;  // Go writes a nil slice as null
  } else {
    nlohmann::ordered_json segments = nlohmann::ordered_json::array();
    for (const std::string& token : path.tokens) segments.push_back({{"token", token}});
    json["PathSegments"] = std::move(segments);
  }
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

absl::StatusOr<uint32_t> UpdateRegistryPath(RegistryPath& path, std::string_view peer_token,
                                            std::string_view own_token) {
  if (path.tokens.empty()) {
    path.tokens = {std::string(peer_token), std::string(own_token)};
    path.index = 1;
    return 0;
  }
  const size_t next = static_cast<size_t>(path.index) + 1;
  if (next > path.tokens.size()) {
    return absl::InvalidArgumentError(
        Cat("registry path Index+1 == ", next, " exceeds the ", path.tokens.size(), " segments"));
  }
  const uint32_t caller_index = path.index;
  path.tokens[caller_index] = std::string(peer_token);
  path.index = static_cast<uint32_t>(next);
  if (next == path.tokens.size()) {
    path.tokens.emplace_back(own_token);
  } else {
    path.tokens[next] = std::string(own_token);
  }
  return caller_index;
}

void SetPathId(google::protobuf::RepeatedPtrField<std::string>& path_ids, size_t position,
               std::string id) {
  if (position >= static_cast<size_t>(path_ids.size())) {
    *path_ids.Add() = std::move(id);
  } else {
    path_ids[static_cast<int>(position)] = std::move(id);
  }
}

absl::Status UpdatePathIds(google::protobuf::RepeatedPtrField<std::string>& path_ids,
                           const RegistryPath& updated_path, std::string_view peer_token,
                           std::string_view own_token) {
  if (updated_path.index == 0) {
    return absl::InvalidArgumentError("registry path was not updated (Index 0)");
  }
  absl::StatusOr<SpiffeId> own = JwtSubjectSpiffeId(own_token);
  if (!own.ok()) {
    return absl::InvalidArgumentError(
        Cat("own registry token has no SPIFFE ID subject: ", own.status().message()));
  }
  absl::StatusOr<SpiffeId> peer = JwtSubjectSpiffeId(peer_token);
  SetPathId(path_ids, updated_path.index - 1, peer.ok() ? peer->ToString() : "");
  SetPathId(path_ids, updated_path.index, own->ToString());
  return absl::OkStatus();
}

}  // namespace nsmcert::sdk::tools
