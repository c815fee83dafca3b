// The forwarder's own registration (spec §8.4, §11 "registry-side healing"): the forwarder is an
// endpoint of the network service `forwarder`, registered through its nsmgr, so that the nsmgr can
// find it.
//
// Guarantees:
// - Register sends {name, network_service_names: [<service>], network_service_labels: {<service>:
//   {labels}}, url}; the registry answers with an expiration_time.
// - The registration is refreshed (registered again) at 2/3 of the time left until the expiration
//   the registry returned, on the injected clock; a failed registration is retried every
//   `retry_interval`.
// - A watch (Find{name, watch}) on its own name runs in the background. When it breaks (the nsmgr
//   or registry restarted) or reports the entry deleted, the forwarder registers again at once and
//   watches again (after `retry_interval` when the watch could not even be opened).
// - Stop() ends the timers and the watch and unregisters; it is idempotent.
//
// Threading: thread-safe. Timer callbacks run on the clock's thread (FakeClock: inside Advance);
// the watch has its own thread.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"
#include "registry.pb.h"

namespace nsmcert::forwarder {

struct RegistrationOptions {
  std::string name;                           // NSM_NAME
  std::string url;                            // where the forwarder listens
  std::string network_service = "forwarder";  // NSM_NSNAME
  std::map<std::string, std::string> labels;  // NSM_LABELS
  absl::Duration retry_interval = absl::Seconds(1);
  // Deadline of each Register/Unregister call.
  absl::Duration call_timeout = absl::Seconds(5);
};

class Registration {
 public:
  // `registry` is the client chain toward the nsmgr (registry_client.h) or a fake; `clock` must
  // outlive this object.
  Registration(RegistrationOptions options, std::shared_ptr<sdk::NseRegistryElement> registry,
               sdk::Clock& clock = sdk::Clock::Real());
  ~Registration();  // Stop()
  Registration(const Registration&) = delete;
  Registration& operator=(const Registration&) = delete;

  // Registers once and returns that result; from then on keeps the registration alive in the
  // background (retrying after a failure), until Stop().
  absl::Status Start();
  // Stops keeping it alive and unregisters; returns the Unregister result (OK when never
  // registered).
  absl::Status Stop();

  // The entry as the registry last returned it.
  std::optional<registry::NetworkServiceEndpoint> current() const;
  // Successful Register calls so far.
  int registrations() const;
  // What Register sends.
  registry::NetworkServiceEndpoint Entry() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::forwarder
