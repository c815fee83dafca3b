// The endpoint's registration (spec §8.1, §8.2, §11 "registry-side healing"): its network
// services and itself, registered through its nsmgr and kept registered until it stops.
//
// Guarantees:
// - Start() registers, for each service, NetworkService{name, payload} (when register_services)
//   and then NetworkServiceEndpoint{name, network_service_names: services,
//   network_service_labels: {service: labels + nodeName/podName/clusterName from the environment},
//   url}. A network service that another identity registered first (PERMISSION_DENIED, spec
//   §8.6) is offered as it is. It returns the result of that first round; whatever it was, the
//   registration is kept alive in the background from then on: a failed round is retried every
//   `retry_interval`.
// - Refresh: after every successful endpoint Register, a timer on the injected clock registers
//   again at 2/3 of the time left until the expiration_time the registry returned, sending the
//   entry it returned (labels, path_ids, initial_registration_time) with expiration_time cleared
//   (echoing it would pin the expiry, since every hop only lowers it) and with this endpoint's
//   own name and url. A failed refresh is retried every `retry_interval`. No expiration_time, no
//   refresh.
// - Heal: after a successful round a watch (Find{name: own name, watch: true}) runs. When it
//   breaks (the nsmgr or registry restarted) or reports the entry deleted, the services and the
//   endpoint are registered again (after `retry_interval`, then every `retry_interval` until it
//   works) and a new watch starts.
// - Stop() ends the refresh timer and the watch, waits for a registry call in flight, and then
//   unregisters the endpoint when `unregister_on_stop` (network services, which other endpoints may
//   offer too, stay). Idempotent.
//
// Threading: thread-safe. Timer callbacks run on the clock's thread (FakeClock: inside Advance);
// registration rounds and the watch run on a thread of their own.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/tools/labels.h"
#include "registry.pb.h"

namespace nsmcert::nse {

struct RegistrationOptions {
  std::string name;                           // NSM_NAME
  std::string url;                            // where the endpoint serves
  std::vector<std::string> services;          // NSM_SERVICE_NAMES
  std::string payload = "ETHERNET";           // NSM_PAYLOAD
  std::map<std::string, std::string> labels;  // NSM_LABELS, for every service
  bool register_services = true;              // NSM_REGISTER_SERVICE
  bool unregister_on_stop = true;             // NSM_UNREGISTER_ITSELF
  absl::Duration retry_interval = absl::Milliseconds(500);
  // Deadline of each Register call.
  absl::Duration call_timeout = absl::Seconds(5);
  // Deadline of the Unregister on Stop: short, so that a daemon asked to stop while its nsmgr is
  // gone still exits promptly (the entry then expires on its own).
  absl::Duration stop_timeout = absl::Seconds(1);
  // NODE_NAME, POD_NAME, CLUSTER_NAME for the clientinfo labels.
  sdk::tools::EnvLookup env = sdk::tools::ProcessEnv;
};

class Registration {
 public:
  // The registries are client chains toward the nsmgr (registry_client.h) or fakes; `clock` must
  // outlive this object. INVALID_ARGUMENT from Start() when name, url or services are missing.
  Registration(RegistrationOptions options, std::shared_ptr<sdk::NsRegistryElement> ns_registry,
               std::shared_ptr<sdk::NseRegistryElement> nse_registry,
               sdk::Clock& clock = sdk::Clock::Real());
  ~Registration();  // Stop()
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // Registers once and returns that result; keeps the registration alive from then on, until
  // Stop(). FAILED_PRECONDITION when called twice or after Stop().
  absl::Status Start();
  // Stops keeping it alive and unregisters (see above); returns the Unregister result (OK when
  // nothing was registered or unregistering is off).
  absl::Status Stop();

  // The endpoint as the registry last returned it.
  std::optional<registry::NetworkServiceEndpoint> current() const;
  // Successful endpoint Register calls so far (first, refreshes, heals).
  int registrations() const;
  // Times the watch broke (or reported the entry deleted) and a new round started.
  int heals() const;

  // What the first endpoint Register sends.
  registry::NetworkServiceEndpoint Entry() const;
  // What each network service Register sends.
  std::vector<registry::NetworkService> Services() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::nse
