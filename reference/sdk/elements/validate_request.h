// validate_request (server side): refuses a Request or Close whose input is malformed or too big
// before any element acts on it (DESIGN.md "Bad input and faults").
//
// Guarantees: a call whose connection or request breaks one of RequestLimits fails with
// INVALID_ARGUMENT whose message names the field (and the map key or list index), the size found
// and the limit, e.g. `connection.labels["huge"]: value is 1048576 bytes, at most 1024`. Nothing
// after this element runs then. A call within the limits passes on unchanged.
//
// The limits are generous on purpose: they never refuse what upstream NSM sends (Kubernetes names
// and labels, pod/node/cluster names in labels, UUIDs, JWTs, interdomain `name@domain` names) and
// only stop input that no peer has a reason to send. Upstream itself checks none of these; a
// kernel interface name longer than 15 bytes fails there later, in the kernel.
//
// Chain placement: first in every server chain (nsmgr, forwarder, NSE), before updatepath.
//
// Threading: stateless; thread-safe.
#pragma once

#include <cstddef>

#include "absl/status/status.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

struct RequestLimits {
  // connection.id and path segment ids (upstream: UUIDs, 36 bytes).
  size_t max_id_bytes = 256;
  // connection.network_service, network_service_endpoint_name, payload, path segment names
  // (Kubernetes names are at most 253 bytes; interdomain adds `@domain`).
  size_t max_name_bytes = 512;
  // connection.labels: a Kubernetes qualified key is at most 253 (prefix) + 1 + 63 bytes; values
  // hold label values (63 bytes in Kubernetes) but also pod, node and cluster names (253 bytes),
  // so they get more room than Kubernetes allows.
  size_t max_labels = 64;
  size_t max_label_key_bytes = 317;
  size_t max_label_value_bytes = 1024;
  size_t max_labels_total_bytes = 16 * 1024;  // keys and values together
  // mechanism_preferences and connection.mechanism: count, parameters per mechanism, their sizes.
  size_t max_mechanisms = 16;
  size_t max_mechanism_parameters = 32;
  size_t max_mechanism_key_bytes = 253;
  size_t max_mechanism_value_bytes = 4096;
  // connection.path: segments (upstream paths have 4-8, interdomain a few more) and tokens (a JWT
  // signed with an X.509-SVID key is well under 2 KiB).
  size_t max_path_segments = 32;
  size_t max_token_bytes = 8 * 1024;
  // connection.context: list entries (addresses, routes, prefixes, DNS configs, ...) per list,
  // extra_context entries and their sizes, and the whole context.
  size_t max_context_list_entries = 1024;
  size_t max_extra_context = 64;
  size_t max_extra_context_key_bytes = 253;
  size_t max_extra_context_value_bytes = 4096;
  size_t max_context_bytes = 256 * 1024;
  // The whole request (or the connection of a Close), as encoded on the wire.
  size_t max_request_bytes = 512 * 1024;
};

// The checks of ValidateRequest, usable without a chain. Field-level limits are checked before the
// totals, so the message names the field at fault when there is one.
absl::Status ValidateConnection(const connection::Connection& conn, const RequestLimits& limits);
absl::Status ValidateNetworkServiceRequest(const networkservice::NetworkServiceRequest& request,
                                           const RequestLimits& limits);

class ValidateRequest final : public NetworkServiceElement {
 public:
  explicit ValidateRequest(RequestLimits limits = {});

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  const RequestLimits limits_;
};

}  // namespace nsmcert::sdk
