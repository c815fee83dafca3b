// timeout (server side): closes a connection whose caller stopped refreshing it (spec 5.3).
//
// Guarantees: after a successful Request it arms a timer, on the context's clock, due at the
// expiry of the previous path segment (the caller's token) minus the time the incoming request
// had left before its deadline. If no newer Request for the connection arrives before it fires, the
// timer closes the connection through begin's EventFactory, i.e. through every element after begin
// (so monitor emits DELETE), with a time budget of its own: at least `close_budget`, or the last
// request's budget when that is longer. Every element after begin releases this hop's state even
// when the Close toward the next hop fails (the later hops each have their own timer). A
// successful refresh re-arms it from the new expiry (a failed one
// keeps the old timer); a Close stops it. If no timer can be armed (the connection has no previous
// segment with an expiry, or no begin runs before this element), the Request fails and what the
// rest of the chain built is closed again.
//
// Chain placement: after begin (it needs the EventFactory) and updatetoken (the previous
// segment's expiry must be the caller's fresh token expiry); before monitor.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

struct TimeoutOptions {
  // The least time the Close started by the timer gets to reach the rest of the path. The last
  // request's budget is no guide: a caller with a 1 s request timeout would leave the Close 1 s to
  // cross every later hop, which a loaded node does not always manage.
  absl::Duration close_budget = absl::Seconds(15);
};

class Timeout final : public NetworkServiceElement {
 public:
  explicit Timeout(TimeoutOptions options = {});
  ~Timeout() override;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // Number of connections with an armed timer.
  size_t armed() const;

 private:
  struct Armed;
  absl::StatusOr<std::shared_ptr<Armed>> Arm(Context& ctx, const connection::Connection& conn,
                                             absl::Duration incoming_budget);
  void Replace(const std::string& id, std::shared_ptr<Armed> armed);

  const TimeoutOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Armed>> timers_;
};

}  // namespace nsmcert::sdk
