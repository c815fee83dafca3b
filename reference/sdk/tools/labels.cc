#include "reference/sdk/tools/labels.h"

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') return false;
  }
  return true;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

struct ClientInfoVariable {
  std::string_view env;
  std::string_view label;
};

constexpr ClientInfoVariable kClientInfo[] = {
    {"NODE_NAME", api::label::kNodeName},
    {"POD_NAME", api::label::kPodName},
    {"CLUSTER_NAME", api::label::kClusterName},
};

template <class LabelMapT>
void AddClientInfoTo(LabelMapT& labels, const EnvLookup& env) {
  for (const ClientInfoVariable& variable : kClientInfo) {
    std::optional<std::string> value = env(variable.env);
    if (!value.has_value()) continue;
    const std::string label(variable.label);
    if (labels.find(label) != labels.end()) continue;
    labels[label] = *std::move(value);
  }
}

}  // namespace

absl::StatusOr<std::map<std::string, std::string>> ParseColonLabels(std::string_view text) {
  std::map<std::string, std::string> labels;
  if (IsBlank(text)) return labels;
  for (std::string_view item : internal::Split(text, ',')) {
    const std::vector<std::string_view> key_value = internal::Split(item, ':');
    if (key_value.size() != 2) {
      return absl::InvalidArgumentError(
          Cat("labels \"", text, "\": item \"", item, "\" is not key:value"));
    }
    labels[std::string(key_value[0])] = std::string(key_value[1]);
  }
  return labels;
}

absl::StatusOr<std::map<std::string, std::string>> ParseEqualsLabels(std::string_view text) {
  std::map<std::string, std::string> labels;
  if (IsBlank(text)) return labels;
  for (std::string_view item : internal::Split(text, ',')) {
    const std::vector<std::string_view> key_value = internal::Split(item, '=');
    if (key_value.size() != 2 || TrimSpaces(key_value[0]).empty()) {
      return absl::InvalidArgumentError(
          Cat("labels \"", text, "\": item \"", item, "\" is not key=value"));
    }
    labels[std::string(TrimSpaces(key_value[0]))] = std::string(TrimSpaces(key_value[1]));
  }
  return labels;
}

std::optional<std::string> ProcessEnv(std::string_view name) {
  const char* value = std::getenv(std::string(name).c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

void AddClientInfo(google::protobuf::Map<std::string, std::string>& labels, const EnvLookup& env) {
  AddClientInfoTo(labels, env);
}

void AddClientInfo(std::map<std::string, std::string>& labels, const EnvLookup& env) {
  AddClientInfoTo(labels, env);
}

}  // namespace nsmcert::sdk::tools
