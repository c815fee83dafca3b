#include "reference/sdk/elements/validate_request.h"

#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::sdk {
namespace {

absl::Status Refuse(std::string_view field, std::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(field), ": ", std::string(what)));
}

std::string Keyed(std::string_view field, std::string_view key) {
  // The key itself may be the oversized part: show its start only.
  constexpr size_t kShown = 64;
  std::string shown(key.substr(0, kShown));
  if (key.size() > kShown) shown += "...";
  return absl::StrCat(std::string(field), "[\"", shown, "\"]");
}

std::string Indexed(std::string_view field, int index) {
  return absl::StrCat(std::string(field), "[", index, "]");
}

absl::Status CheckBytes(std::string_view field, std::string_view what, size_t size, size_t limit) {
  if (size <= limit) return absl::OkStatus();
  return Refuse(field, absl::StrCat(std::string(what), " is ", size, " bytes, at most ", limit));
}

absl::Status CheckCount(std::string_view field, size_t count, size_t limit) {
  if (count <= limit) return absl::OkStatus();
  return Refuse(field, absl::StrCat(count, " entries, at most ", limit));
}

// A string map: entry count, key and value sizes, optionally the total.
absl::Status CheckMap(std::string_view field,
                      const google::protobuf::Map<std::string, std::string>& map,
                      size_t max_entries, size_t max_key, size_t max_value, size_t max_total) {
  if (absl::Status s = CheckCount(field, map.size(), max_entries); !s.ok()) return s;
  size_t total = 0;
  for (const auto& [key, value] : map) {
    if (absl::Status s = CheckBytes(Keyed(field, key), "key", key.size(), max_key); !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckBytes(Keyed(field, key), "value", value.size(), max_value); !s.ok()) {
      return s;
    }
    total += key.size() + value.size();
  }
  return CheckBytes(field, "keys and values together", total, max_total);
}

absl::Status CheckMechanism(std::string_view field, const connection::Mechanism& mechanism,
                            const RequestLimits& limits) {
  if (absl::Status s = CheckBytes(absl::StrCat(std::string(field), ".cls"), "cls",
                                  mechanism.cls().size(), limits.max_name_bytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckBytes(absl::StrCat(std::string(field), ".type"), "type",
                                  mechanism.type().size(), limits.max_name_bytes);
      !s.ok()) {
    return s;
  }
  const std::string params = absl::StrCat(std::string(field), ".parameters");
  if (absl::Status s = CheckMap(params, mechanism.parameters(), limits.max_mechanism_parameters,
                                limits.max_mechanism_key_bytes, limits.max_mechanism_value_bytes,
                                limits.max_request_bytes);
      !s.ok()) {
    return s;
  }
  if (mechanism.type() == api::mechanism::kKernel) {
    auto name = mechanism.parameters().find(std::string(api::param::kName));
    if (name != mechanism.parameters().end() && !name->second.empty()) {
      absl::Status valid = tools::ValidateInterfaceName(name->second);
      if (!valid.ok())
        return Refuse(Keyed(params, api::param::kName), std::string(valid.message()));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPath(const connection::Path& path, const RequestLimits& limits) {
  if (absl::Status s = CheckCount("connection.path.path_segments", path.path_segments_size(),
                                  limits.max_path_segments);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < path.path_segments_size(); ++i) {
    const auto& segment = path.path_segments(i);
    const std::string field = Indexed("connection.path.path_segments", i);
    absl::Status s = CheckBytes(absl::StrCat(field, ".name"), "name", segment.name().size(),
                                limits.max_name_bytes);
    if (s.ok()) {
      s = CheckBytes(absl::StrCat(field, ".id"), "id", segment.id().size(), limits.max_id_bytes);
    }
    if (s.ok()) {
      s = CheckBytes(absl::StrCat(field, ".token"), "token", segment.token().size(),
                     limits.max_token_bytes);
    }
    if (s.ok()) {
      s = CheckMap(absl::StrCat(field, ".metrics"), segment.metrics(), limits.max_labels,
                   limits.max_label_key_bytes, limits.max_label_value_bytes,
                   limits.max_labels_total_bytes);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CheckContext(const connectioncontext::ConnectionContext& context,
                          const RequestLimits& limits) {
  const auto& ip = context.ip_context();
  const std::pair<std::string_view, int> lists[] = {
      {"connection.context.ip_context.src_ip_addrs", ip.src_ip_addrs_size()},
      {"connection.context.ip_context.dst_ip_addrs", ip.dst_ip_addrs_size()},
      {"connection.context.ip_context.src_routes", ip.src_routes_size()},
      {"connection.context.ip_context.dst_routes", ip.dst_routes_size()},
      {"connection.context.ip_context.excluded_prefixes", ip.excluded_prefixes_size()},
      {"connection.context.ip_context.ip_neighbors", ip.ip_neighbors_size()},
      {"connection.context.ip_context.extra_prefix_request", ip.extra_prefix_request_size()},
      {"connection.context.ip_context.extra_prefixes", ip.extra_prefixes_size()},
      {"connection.context.ip_context.policies", ip.policies_size()},
      {"connection.context.dns_context.configs", context.dns_context().configs_size()},
  };
  for (const auto& [field, count] : lists) {
    if (absl::Status s = CheckCount(field, count, limits.max_context_list_entries); !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckMap("connection.context.extra_context", context.extra_context(),
                                limits.max_extra_context, limits.max_extra_context_key_bytes,
                                limits.max_extra_context_value_bytes, limits.max_context_bytes);
      !s.ok()) {
    return s;
  }
  // Last: a field-level refusal names the field, which helps more than the total.
  return CheckBytes("connection.context", "the context", context.ByteSizeLong(),
                    limits.max_context_bytes);
}

}  // namespace

absl::Status ValidateConnection(const connection::Connection& conn, const RequestLimits& limits) {
  const std::pair<std::string_view, const std::string*> names[] = {
      {"connection.network_service", &conn.network_service()},
      {"connection.network_service_endpoint_name", &conn.network_service_endpoint_name()},
      {"connection.payload", &conn.payload()},
  };
  for (const auto& [field, value] : names) {
    if (absl::Status s = CheckBytes(field, "the name", value->size(), limits.max_name_bytes);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckBytes("connection.id", "the id", conn.id().size(), limits.max_id_bytes);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = CheckMap("connection.labels", conn.labels(), limits.max_labels,
                                limits.max_label_key_bytes, limits.max_label_value_bytes,
                                limits.max_labels_total_bytes);
      !s.ok()) {
    return s;
  }
  if (conn.has_mechanism()) {
    if (absl::Status s = CheckMechanism("connection.mechanism", conn.mechanism(), limits);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = CheckPath(conn.path(), limits); !s.ok()) return s;
  if (absl::Status s = CheckContext(conn.context(), limits); !s.ok()) return s;
  return CheckBytes("connection", "the connection", conn.ByteSizeLong(), limits.max_request_bytes);
}

absl::Status ValidateNetworkServiceRequest(const networkservice::NetworkServiceRequest& request,
                                           const RequestLimits& limits) {
  if (absl::Status s = CheckCount("mechanism_preferences", request.mechanism_preferences_size(),
                                  limits.max_mechanisms);
      !s.ok()) {
    return s;
  }
  for (int i = 0; i < request.mechanism_preferences_size(); ++i) {
    if (absl::Status s = CheckMechanism(Indexed("mechanism_preferences", i),
                                        request.mechanism_preferences(i), limits);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = ValidateConnection(request.connection(), limits); !s.ok()) return s;
  return CheckBytes("request", "the request", request.ByteSizeLong(), limits.max_request_bytes);
}

ValidateRequest::ValidateRequest(RequestLimits limits) : limits_(limits) {}

absl::StatusOr<connection::Connection> ValidateRequest::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  if (absl::Status s = ValidateNetworkServiceRequest(request, limits_); !s.ok()) return s;
  return next.Request(ctx, request);
}

absl::Status ValidateRequest::Close(Context& ctx, connection::Connection& conn,
                                    const NetworkServiceNext& next) {
  if (absl::Status s = ValidateConnection(conn, limits_); !s.ok()) return s;
  return next.Close(ctx, conn);
}

}  // namespace nsmcert::sdk
