#include "reference/sdk/registry/validate.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "reference/sdk/registry/traits.h"
#include "reference/sdk/tools/url.h"

namespace nsmcert::sdk::reg {
namespace {

// Timestamp's valid range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999999Z.
constexpr int64_t kMinTimestampSeconds = -62135596800;
constexpr int64_t kMaxTimestampSeconds = 253402300799;

std::string Quote(std::string_view s) {
  // Keep error messages short and printable whatever the peer sent.
  std::string out = "\"";
  for (char c : s.substr(0, 64)) {
    unsigned char u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? '?' : c;
  }
  if (s.size() > 64) out += "...";
  return out + "\"";
}

absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

bool HasControl(std::string_view s) {
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

absl::Status CheckName(const std::string& field, std::string_view name, bool required,
                       const RegistryLimits& limits) {
  if (name.empty()) {
    return required ? Invalid(field, "must not be empty") : absl::OkStatus();
  }
  if (name.size() > limits.max_name_length) {
    return Invalid(field, absl::StrCat(name.size(), " bytes, at most ", limits.max_name_length));
  }
  for (char c : name) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Invalid(field, absl::StrCat(Quote(name), " contains a space or control character"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckText(const std::string& field, std::string_view text, size_t max_length) {
  if (text.size() > max_length) {
    return Invalid(field, absl::StrCat(text.size(), " bytes, at most ", max_length));
  }
  if (HasControl(text))
    return Invalid(field, absl::StrCat(Quote(text), " contains a control character"));
  return absl::OkStatus();
}

template <typename Map>
absl::Status CheckLabels(const std::string& field, const Map& labels,
                         const RegistryLimits& limits) {
  if (labels.size() > limits.max_labels) {
    return Invalid(field, absl::StrCat(labels.size(), " labels, at most ", limits.max_labels));
  }
  for (const auto& [key, value] : labels) {
    std::string entry = absl::StrCat(field, "[", Quote(key), "]");
    if (key.empty()) return Invalid(field, "a label key is empty");
    if (auto s = CheckText(entry + " key", key, limits.max_label_key_length); !s.ok()) return s;
    if (auto s = CheckText(entry, value, limits.max_label_value_length); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckListLength(const std::string& field, int size, const RegistryLimits& limits) {
  if (static_cast<size_t>(size) > limits.max_list_length) {
    return Invalid(field, absl::StrCat(size, " entries, at most ", limits.max_list_length));
  }
  return absl::OkStatus();
}

absl::Status CheckTimestamp(const std::string& field, const google::protobuf::Timestamp& t) {
  if (t.seconds() < kMinTimestampSeconds || t.seconds() > kMaxTimestampSeconds || t.nanos() < 0 ||
      t.nanos() >= 1'000'000'000) {
    return Invalid(field, absl::StrCat("not a valid timestamp (seconds ", t.seconds(), ", nanos ",
                                       t.nanos(), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckPathIds(const std::string& field,
                          const google::protobuf::RepeatedPtrField<std::string>& ids,
                          const RegistryLimits& limits) {
  if (auto s = CheckListLength(field, ids.size(), limits); !s.ok()) return s;
  for (int i = 0; i < ids.size(); ++i) {
    if (auto s = CheckText(absl::StrCat(field, "[", i, "]"), ids[i], limits.max_path_id_length);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateNetworkServiceEndpoint(const registry::NetworkServiceEndpoint& nse,
                                            ValidationMode mode, const RegistryLimits& limits) {
  const std::string f = "network_service_endpoint";
  bool query = mode == ValidationMode::kQuery;
  if (auto s = CheckName(f + ".name", nse.name(), !query, limits); !s.ok()) return s;

  const std::string names = f + ".network_service_names";
  if (auto s = CheckListLength(names, nse.network_service_names_size(), limits); !s.ok()) return s;
  for (int i = 0; i < nse.network_service_names_size(); ++i) {
    auto s =
        CheckName(absl::StrCat(names, "[", i, "]"), nse.network_service_names(i), true, limits);
    if (!s.ok()) return s;
  }

  const std::string labels = f + ".network_service_labels";
  if (nse.network_service_labels().size() > limits.max_list_length) {
    return Invalid(labels, absl::StrCat(nse.network_service_labels().size(),
                                        " network services, at most ", limits.max_list_length));
  }
  for (const auto& [service, service_labels] : nse.network_service_labels()) {
    std::string entry = absl::StrCat(labels, "[", Quote(service), "]");
    if (auto s = CheckName(entry + " key", service, true, limits); !s.ok()) return s;
    if (auto s = CheckLabels(entry + ".labels", service_labels.labels(), limits); !s.ok()) return s;
  }

  const std::string url = f + ".url";
  if (query) {
    if (auto s = CheckText(url, nse.url(), limits.max_url_length); !s.ok()) return s;
  } else if (!nse.url().empty()) {
    if (auto s = CheckText(url, nse.url(), limits.max_url_length); !s.ok()) return s;
    if (auto parsed = tools::ParseNsmUrl(nse.url()); !parsed.ok()) {
      return Invalid(url, std::string(parsed.status().message()));
    }
  }

  if (nse.has_expiration_time()) {
    if (auto s = CheckTimestamp(f + ".expiration_time", nse.expiration_time()); !s.ok()) return s;
  }
  if (nse.has_initial_registration_time()) {
    auto s = CheckTimestamp(f + ".initial_registration_time", nse.initial_registration_time());
    if (!s.ok()) return s;
  }
  return CheckPathIds(f + ".path_ids", nse.path_ids(), limits);
}

absl::Status ValidateNetworkService(const registry::NetworkService& ns, ValidationMode mode,
                                    const RegistryLimits& limits) {
  const std::string f = "network_service";
  bool query = mode == ValidationMode::kQuery;
  if (auto s = CheckName(f + ".name", ns.name(), !query, limits); !s.ok()) return s;
  if (auto s = CheckText(f + ".payload", ns.payload(), limits.max_name_length); !s.ok()) return s;

  const std::string matches = f + ".matches";
  if (auto s = CheckListLength(matches, ns.matches_size(), limits); !s.ok()) return s;
  for (int i = 0; i < ns.matches_size(); ++i) {
    const auto& match = ns.matches(i);
    std::string m = absl::StrCat(matches, "[", i, "]");
    if (auto s = CheckLabels(m + ".source_selector", match.source_selector(), limits); !s.ok()) {
      return s;
    }
    if (auto s = CheckListLength(m + ".routes", match.routes_size(), limits); !s.ok()) return s;
    for (int r = 0; r < match.routes_size(); ++r) {
      auto s = CheckLabels(absl::StrCat(m, ".routes[", r, "].destination_selector"),
                           match.routes(r).destination_selector(), limits);
      if (!s.ok()) return s;
    }
    if (match.has_metadata()) {
      auto s = CheckLabels(m + ".metadata.labels", match.metadata().labels(), limits);
      if (!s.ok()) return s;
    }
  }
  return CheckPathIds(f + ".path_ids", ns.path_ids(), limits);
}

namespace {

absl::Status ValidateResource(const registry::NetworkServiceEndpoint& nse, ValidationMode mode,
                              const RegistryLimits& limits) {
  return ValidateNetworkServiceEndpoint(nse, mode, limits);
}
absl::Status ValidateResource(const registry::NetworkService& ns, ValidationMode mode,
                              const RegistryLimits& limits) {
  return ValidateNetworkService(ns, mode, limits);
}

}  // namespace

template <typename Types>
absl::StatusOr<typename Types::Resource> Validate<Types>::Register(Context& ctx, Resource& resource,
                                                                   const Next& next) {
  if (auto s = ValidateResource(resource, ValidationMode::kRegister, limits_); !s.ok()) return s;
  return next.Register(ctx, resource);
}

template <typename Types>
absl::Status Validate<Types>::Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                                   const Next& next) {
  auto s = ValidateResource(RegistryTraits<Types>::QueryResource(query), ValidationMode::kQuery,
                            limits_);
  if (!s.ok()) return s;
  return next.Find(ctx, query, sink);
}

template <typename Types>
absl::Status Validate<Types>::Unregister(Context& ctx, Resource& resource, const Next& next) {
  if (auto s = ValidateResource(resource, ValidationMode::kUnregister, limits_); !s.ok()) return s;
  return next.Unregister(ctx, resource);
}

template class Validate<NseRegistryTypes>;
template class Validate<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
