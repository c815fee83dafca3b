// validate: refuses malformed registry input with INVALID_ARGUMENT before anything acts on it, the
// message naming the field at fault (`network_service_endpoint.network_service_labels["icmp"]
// .labels: 65 labels, at most 64`). Upstream checks almost nothing; these limits keep a hostile or
// broken peer from storing unbounded data or URLs nobody can dial.
//
// Rules (RegistryLimits holds the numbers):
// - Names (resource name, network service names, label-map keys): not empty, at most
//   `max_name_length` bytes, no ASCII control characters or spaces. Register and Unregister need a
//   name; a query may leave it empty.
// - Labels: at most `max_labels` per map, keys 1..`max_label_key_length` bytes, values at most
//   `max_label_value_length` bytes, no control characters.
// - Endpoint url: empty, or an NSM URL (`unix:///abs/path`, `tcp://host:port`, `inode://dev/ino`)
//   of at most `max_url_length` bytes. In a query the url is a substring to look for, so only its
//   length and characters are checked.
// - Lists (network_service_names, path_ids, matches, routes): at most `max_list_length` entries.
// - Timestamps, when set: inside google.protobuf.Timestamp's range.
// - NetworkService payload: at most `max_name_length` bytes, no control characters.
//
// Placement: first in a registry server chain.
// Threading: stateless, thread-safe.
#pragma once

#include <cstddef>

#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

struct RegistryLimits {
  size_t max_name_length = 253;  // a DNS subdomain, what Kubernetes allows for pod names
  size_t max_labels = 64;
  size_t max_label_key_length = 317;  // a Kubernetes qualified key: 253-byte prefix, '/', 63
  size_t max_label_value_length = 1024;
  size_t max_url_length = 1024;
  size_t max_list_length = 64;
  size_t max_path_id_length = 2048;
};

// What a resource is validated for: a query may leave fields empty and holds a url fragment.
enum class ValidationMode { kRegister, kUnregister, kQuery };

absl::Status ValidateNetworkServiceEndpoint(const registry::NetworkServiceEndpoint& nse,
                                            ValidationMode mode, const RegistryLimits& limits = {});
absl::Status ValidateNetworkService(const registry::NetworkService& ns, ValidationMode mode,
                                    const RegistryLimits& limits = {});

template <typename Types>
class Validate final : public RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = RegistryNext<Types>;

  explicit Validate(RegistryLimits limits = {}) : limits_(limits) {}

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override;
  absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override;

 private:
  RegistryLimits limits_;
};

extern template class Validate<NseRegistryTypes>;
extern template class Validate<NsRegistryTypes>;
using NseValidate = Validate<NseRegistryTypes>;
using NsValidate = Validate<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
