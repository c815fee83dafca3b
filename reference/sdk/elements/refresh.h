// refresh (client side, NSC only): keeps a connection alive by re-sending its Request before the
// tokens on its path expire (spec 5.3).
//
// Guarantees: after a successful Request it arms a timer, on the context's clock, due after
// (earliest segment expiry - now) x scale, where scale is 1/3 for a one-segment path and
// 0.2 + 0.2 x index / segments otherwise (tools::RefreshAfter). When it fires, the last request is
// re-sent through begin's EventFactory, i.e. through every element after begin, which re-arms the
// timer from the new path. A failed refresh is retried every `retry_interval` until it succeeds,
// the connection is closed, or the path's earliest expiry would pass before the next retry (then
// heal takes over).
// A Close stops the timer. Without a begin before it the Request fails and is undone.
//
// Chain placement: a client chain after begin and metadata, before the elements that reach the
// next hop. nsmgr and forwarder client chains run without it (spec 10).
#pragma once

#include <memory>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

struct RefreshOptions {
  absl::Duration retry_interval = absl::Milliseconds(200);
};

class Refresh final : public NetworkServiceElement {
 public:
  explicit Refresh(RefreshOptions options = {});
  ~Refresh() override;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // Number of connections with an armed refresh timer.
  size_t armed() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::sdk
