// redial (client side, NSC): a call to the nsmgr that failed because the nsmgr could not be
// reached drops the cached channel, so the next attempt (a retry, heal, refresh) dials afresh
// instead of waiting out gRPC's reconnect backoff, which grows to minutes while an nsmgr is down
// and would delay healing after it comes back (upstream's client `dial` element re-dials for the
// same reason).
//
// Guarantees: after a Request or Close that fails with UNAVAILABLE or DEADLINE_EXCEEDED, the
// channel of the context's ClientUrl is removed from the pool (calls and streams already on it are
// not disturbed). Other outcomes pass through untouched.
//
// Chain placement: the NSC's client chain after the element that sets ClientUrl, right before the
// connect element.
// Threading: thread-safe.
#pragma once

#include <memory>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/grpc/channel_pool.h"

namespace nsmcert::nsc {

class Redial final : public sdk::NetworkServiceElement {
 public:
  explicit Redial(std::shared_ptr<sdk::ChannelPool> channels);

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

 private:
  void ForgetOn(const absl::Status& status, sdk::Context& ctx);
  std::shared_ptr<sdk::ChannelPool> channels_;
};

}  // namespace nsmcert::nsc
