// round_robin (forwarder, server side): picks the endpoint among discover's candidates (spec §9.1).
//
// Guarantees on Request:
// - A ClientUrl already in the context (discover found the endpoint by name) is left alone.
// - Otherwise candidates are taken in round-robin order, one counter per network service name
//   shared by all connections: for each attempt ClientUrl = the candidate's URL,
//   connection.network_service_endpoint_name = its name, and the rest of the chain runs on a fresh
//   copy of the request. The first attempt that succeeds wins; a failing attempt has been undone by
//   the elements after this one (the undo rule), so the next candidate starts clean. When all fail,
//   the error (with the last failure's code) names every candidate and what went wrong with it.
// - FAILED_PRECONDITION when no Candidates are in the context (discover did not run).
// Close passes through (discover already found the endpoint by name).
//
// Chain placement: right after discover.
// Threading: thread-safe.
#pragma once

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/match.h"

namespace nsmcert::forwarder {

class RoundRobin final : public sdk::NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;

 private:
  sdk::tools::RoundRobin counters_;
};

}  // namespace nsmcert::forwarder
