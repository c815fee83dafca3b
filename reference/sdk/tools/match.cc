#include "reference/sdk/tools/match.h"

#include <algorithm>
#include <utility>

#include "google/protobuf/util/message_differencer.h"

namespace nsmcert::sdk::tools {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

bool IsIdentifierStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool IsIdentifierChar(char c) { return IsIdentifierStart(c) || (c >= '0' && c <= '9'); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

void TrimTrailingSpace(std::string& s) {
  while (!s.empty() && IsSpace(s.back())) s.pop_back();
}

// Go prints a missing map key as "<no value>" under the default missingkey option.
std::string Lookup(const LabelMap& data, std::string_view key) {
  auto it = data.find(std::string(key));
  return it == data.end() ? "<no value>" : it->second;
}

// A double-quoted Go string literal with the simple escapes \" and \\; nullopt otherwise.
std::optional<std::string> ParseQuoted(std::string_view s) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    char c = s[i];
    if (c == '\\') {
      if (i + 2 >= s.size() || (s[i + 1] != '"' && s[i + 1] != '\\')) return std::nullopt;
      c = s[++i];
    } else if (c == '"' || c == '\n') {
      return std::nullopt;
    }
    out.push_back(c);
  }
  return out;
}

// Evaluates one action's content (between the delimiters and trim markers). nullopt: unsupported.
// `emits` is false for a comment.
std::optional<std::string> Evaluate(std::string_view action, const LabelMap& data, bool& emits) {
  emits = true;
  if (action.substr(0, 2) == "/*") {
    // Go allows nothing but a trim marker between "*/" and the closing delimiter.
    std::string_view comment = action;
    while (!comment.empty() && IsSpace(comment.back())) comment.remove_suffix(1);
    if (comment.size() < 4 || comment.substr(comment.size() - 2) != "*/") return std::nullopt;
    emits = false;
    return std::string();
  }
  action = Trim(action);
  if (action == ".") {
    // fmt prints a map[string]string with sorted keys: map[a:1 b:2].
    std::vector<std::pair<std::string, std::string>> entries(data.begin(), data.end());
    std::sort(entries.begin(), entries.end());
    std::string out = "map[";
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out.push_back(' ');
      out += entries[i].first + ":" + entries[i].second;
    }
    out.push_back(']');
    return out;
  }
  if (action.size() >= 2 && action[0] == '.' && IsIdentifierStart(action[1])) {
    size_t end = 1;
    while (end < action.size() && IsIdentifierChar(action[end])) ++end;
    if (end != action.size()) return std::nullopt;  // chains, pipelines, arguments
    return Lookup(data, action.substr(1));
  }
  constexpr std::string_view kIndex = "index";
  if (action.substr(0, kIndex.size()) == kIndex && action.size() > kIndex.size() &&
      IsSpace(action[kIndex.size()])) {
    std::string_view rest = Trim(action.substr(kIndex.size()));
    if (rest.empty() || rest[0] != '.' || rest.size() < 2 || !IsSpace(rest[1])) return std::nullopt;
    std::optional<std::string> key = ParseQuoted(Trim(rest.substr(1)));
    if (!key.has_value()) return std::nullopt;
    return Lookup(data, *key);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> RenderLabelTemplate(std::string_view text, const LabelMap& data) {
  std::string out;
  bool trim_next_text = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t open = text.find("{{", pos);
    std::string_view literal =
        text.substr(pos, open == std::string_view::npos ? std::string_view::npos : open - pos);
    if (trim_next_text) {
      while (!literal.empty() && IsSpace(literal.front())) literal.remove_prefix(1);
      trim_next_text = false;
    }
    out.append(literal);
    if (open == std::string_view::npos) break;

    size_t content_start = open + 2;
    // "{{- " trims the whitespace before the action; the space is required ("{{-3}}" is -3).
    if (content_start + 1 < text.size() && text[content_start] == '-' &&
        IsSpace(text[content_start + 1])) {
      TrimTrailingSpace(out);
      content_start += 2;
    }
    const size_t close = text.find("}}", content_start);
    if (close == std::string_view::npos) return std::nullopt;  // unclosed action
    size_t content_end = close;
    // " -}}" trims the whitespace after the action.
    if (content_end >= content_start + 2 && text[content_end - 1] == '-' &&
        IsSpace(text[content_end - 2])) {
      content_end -= 1;
      trim_next_text = true;
    }
    bool emits = true;
    std::optional<std::string> value =
        Evaluate(text.substr(content_start, content_end - content_start), data, emits);
    if (!value.has_value()) return std::nullopt;
    if (emits) out += *value;
    pos = close + 2;
  }
  return out;
}

bool IsLabelSubset(const LabelMap& labels, const LabelMap& selector,
                   const LabelMap& template_data) {
  if (labels.size() < selector.size()) return false;
  for (const auto& [key, wanted] : selector) {
    auto it = labels.find(key);
    const std::string& actual = it == labels.end() ? std::string() : it->second;
    if (actual == wanted) continue;
    std::optional<std::string> rendered = RenderLabelTemplate(wanted, template_data);
    if (!rendered.has_value() || *rendered != actual) return false;
  }
  return true;
}

std::vector<registry::NetworkServiceEndpoint> MatchEndpoint(
    const LabelMap& request_labels, const registry::NetworkService& network_service,
    const std::vector<registry::NetworkServiceEndpoint>& candidates) {
  if (network_service.matches().empty()) return candidates;
  static const LabelMap* const kNoLabels = new LabelMap();
  for (const registry::Match& match : network_service.matches()) {
    if (!IsLabelSubset(request_labels, match.source_selector(), request_labels)) continue;
    std::vector<registry::NetworkServiceEndpoint> chosen;
    for (const registry::Destination& route : match.routes()) {
      for (const registry::NetworkServiceEndpoint& nse : candidates) {
        auto labels = nse.network_service_labels().find(network_service.name());
        const LabelMap& nse_labels =
            labels == nse.network_service_labels().end() ? *kNoLabels : labels->second.labels();
        if (IsLabelSubset(nse_labels, route.destination_selector(), request_labels)) {
          chosen.push_back(nse);
        }
      }
    }
    if (match.fallthrough() && chosen.empty()) continue;
    if (match.has_metadata() && match.routes().empty() && chosen.empty()) return candidates;
    return chosen;
  }
  return {};
}

std::vector<registry::NetworkServiceEndpoint> MatchForwarders(
    const LabelMap& request_labels, const registry::NetworkService& network_service,
    const std::vector<registry::NetworkServiceEndpoint>& forwarders,
    std::string_view forwarder_service_name) {
  if (network_service.matches().empty()) return forwarders;
  LabelMap p2p;
  p2p["p2p"] = "true";
  std::vector<registry::NetworkServiceEndpoint> chosen;
  for (const registry::Match& match : network_service.matches()) {
    if (!IsLabelSubset(request_labels, match.source_selector(), request_labels)) continue;
    const LabelMap& required = match.metadata().labels().empty() ? p2p : match.metadata().labels();
    for (const registry::NetworkServiceEndpoint& forwarder : forwarders) {
      auto labels = forwarder.network_service_labels().find(std::string(forwarder_service_name));
      if (labels == forwarder.network_service_labels().end()) continue;
      if (IsLabelSubset(labels->second.labels(), required, request_labels)) {
        chosen.push_back(forwarder);
      }
    }
    if (match.fallthrough() && chosen.empty()) continue;
    break;
  }
  return chosen;
}

void PreferCandidate(std::vector<registry::NetworkServiceEndpoint>& candidates,
                     std::string_view name) {
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (candidates[i].name() == name) {
      if (i != 0) std::swap(candidates[0], candidates[i]);
      return;
    }
  }
}

bool MatchNetworkServiceQuery(const registry::NetworkService& query,
                              const registry::NetworkService& candidate) {
  if (!query.name().empty() && query.name() != candidate.name()) return false;
  if (!query.payload().empty() && query.payload() != candidate.payload()) return false;
  if (!query.matches().empty()) {
    if (query.matches_size() != candidate.matches_size()) return false;
    for (int i = 0; i < query.matches_size(); ++i) {
      if (!google::protobuf::util::MessageDifferencer::Equals(query.matches(i),
                                                              candidate.matches(i))) {
        return false;
      }
    }
  }
  return true;
}

bool MatchNetworkServiceEndpointQuery(const registry::NetworkServiceEndpoint& query,
                                      const registry::NetworkServiceEndpoint& candidate) {
  if (!query.name().empty() && query.name() != candidate.name()) return false;
  for (const auto& [service, wanted] : query.network_service_labels()) {
    auto have = candidate.network_service_labels().find(service);
    if (have == candidate.network_service_labels().end()) return false;
    for (const auto& [key, value] : wanted.labels()) {
      auto label = have->second.labels().find(key);
      if (label == have->second.labels().end() || label->second != value) return false;
    }
  }
  if (query.has_expiration_time() &&
      query.expiration_time().seconds() != candidate.expiration_time().seconds()) {
    return false;
  }
  for (const std::string& name : query.network_service_names()) {
    if (std::find(candidate.network_service_names().begin(),
                  candidate.network_service_names().end(),
                  name) == candidate.network_service_names().end()) {
      return false;
    }
  }
  if (!query.url().empty() && candidate.url().find(query.url()) == std::string::npos) return false;
  return true;
}

size_t RoundRobin::Next(std::string_view network_service, size_t candidate_count) {
  if (candidate_count == 0) return 0;
  absl::MutexLock lock(&mu_);
  uint64_t& counter = counters_[std::string(network_service)];
  const size_t index = static_cast<size_t>(counter % candidate_count);
  ++counter;
  return index;
}

}  // namespace nsmcert::sdk::tools
