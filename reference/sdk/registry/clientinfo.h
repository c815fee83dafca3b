// clientinfo (NSE registry): adds nodeName, podName and clusterName from the process environment
// (NODE_NAME, POD_NAME, CLUSTER_NAME) to the labels of every network service an endpoint
// registers with, where the variable is set and the label is absent (spec §5.5). Upstream's nsmgr
// runs it on its NSE registry server side; an NSE's registry client does the same.
//
// Guarantees: Register only; every existing entry of network_service_labels gets the labels (an
// entry without a label map gets one); no entry is added for a service that has none. Find and
// Unregister pass through.
//
// Placement: the nsmgr's NSE registry chain after begin, before expire and the store or proxy.
// Threading: thread-safe if the lookup is.
#pragma once

#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/tools/labels.h"

namespace nsmcert::sdk::reg {

class ClientInfo final : public NseRegistryElement {
 public:
  explicit ClientInfo(tools::EnvLookup env = tools::ProcessEnv);

  absl::StatusOr<registry::NetworkServiceEndpoint> Register(Context& ctx,
                                                            registry::NetworkServiceEndpoint& nse,
                                                            const NseRegistryNext& next) override;

 private:
  tools::EnvLookup env_;
};

}  // namespace nsmcert::sdk::reg
