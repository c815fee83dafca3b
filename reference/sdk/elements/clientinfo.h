// clientinfo: adds nodeName, podName and clusterName labels from the process environment
// (NODE_NAME, POD_NAME, CLUSTER_NAME) to connection.labels, only where the variable is set and the
// label is absent (spec 5.5). Runs on Request; Close passes through.
//
// Chain placement: the NSC's client chain, and the nsmgr's server chain before forwarder/endpoint
// selection (the labels feed the match templates).
#pragma once

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/labels.h"

namespace nsmcert::sdk {

class ClientInfo final : public NetworkServiceElement {
 public:
  explicit ClientInfo(tools::EnvLookup env = tools::ProcessEnv);
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;

 private:
  tools::EnvLookup env_;
};

}  // namespace nsmcert::sdk
