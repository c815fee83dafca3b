// gRPC health probes (grpc.health.v1.Health/Check) against a daemon, possibly inside another
// network namespace.
//
// URLs are the NSM forms (spec §2.1): "unix:///abs/path" and "tcp://host:port"; plain "host:port"
// and "unix-abstract:name" are accepted too. Hosts are IP literals ("[fd00::1]:5001" for IPv6) or
// "localhost".
//
// Namespaces: a TCP address (and an abstract unix socket) exists only inside its network
// namespace, so with HealthTarget::netns_path set the probe creates its socket on a thread that
// entered that namespace (kernel::RunInNetNs), connects it, and hands the connected socket to gRPC.
// Without a namespace the same happens in the caller's namespace. One connection per probe: no
// reconnect backoff carries over between attempts, and nothing stays open afterwards.
#ifndef NSMCERT_CONFORMANCE_HARNESS_HEALTH_H_
#define NSMCERT_CONFORMANCE_HARNESS_HEALTH_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nsmcert::harness {

// grpc.health.v1.HealthCheckResponse.ServingStatus.
enum class ServingStatus { kUnknown, kServing, kNotServing, kServiceUnknown };
std::string_view ServingStatusName(ServingStatus status);  // "SERVING", ...

struct HealthTarget {
  std::string url{};
  std::string netns_path{};  // a namespace file (e.g. /run/netns/<name>); "" = the caller's
};

// The gRPC target string of an NSM URL: unix URLs verbatim, "tcp://h:p" -> "h:p" (spec §2.1).
// INVALID_ARGUMENT names the URL.
absl::StatusOr<std::string> GrpcTargetOf(std::string_view url);

// One Check of `service` ("" = the server as a whole). Errors: INVALID_ARGUMENT for a bad URL,
// NOT_FOUND for a missing namespace, UNAVAILABLE when the connection fails, otherwise the RPC's
// status (DEADLINE_EXCEEDED after `timeout`, UNIMPLEMENTED without a health service...). Messages
// name the URL.
absl::StatusOr<ServingStatus> CheckHealth(const HealthTarget& target, std::string_view service,
                                          absl::Duration timeout);

// Probes until every service in `services` (or the server, when empty) answers SERVING, or
// `timeout` passes (DEADLINE_EXCEEDED, with the last answer or error). Before each attempt it calls
// `keep_waiting` if given; a non-OK status from it ends the wait with that status (e.g. "the
// process died"). Retries every `interval`.
absl::Status WaitHealthy(const HealthTarget& target, const std::vector<std::string>& services,
                         absl::Duration timeout,
                         const std::function<absl::Status()>& keep_waiting = nullptr,
                         absl::Duration interval = absl::Milliseconds(20));

}  // namespace nsmcert::harness

#endif  // NSMCERT_CONFORMANCE_HARNESS_HEALTH_H_
