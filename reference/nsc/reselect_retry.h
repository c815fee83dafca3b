// reselect retry (client side, NSC): keeps reselecting a connection whose reselect failed.
//
// Heal (sdk::Heal) and the data path monitor reselect through begin's EventFactory: begin first
// closes the old path through every element after it, which stops their monitor streams, liveness
// checks and refresh timers, then requests anew. If that Request fails (the new endpoint is not
// registered yet, the nsmgr is still restarting), nothing would be left to try again. This
// element fills that gap.
//
// Guarantees:
// - A Close the application did not announce with ClosingByClient() (i.e. the first half of a
//   reselect) arms a timer on the context's clock: unless a Request for the connection succeeds
//   within `retry_interval`, the connection is reselected again through the EventFactory. A
//   reselect that fails passes this element's Close again and so re-arms it: attempts repeat
//   every `retry_interval` until one succeeds or the application closes the connection.
// - A successful Request disarms it. ClosingByClient(id) disarms it and makes the next Close of
//   that connection a final one.
//
// Threading: thread-safe.
//
// Chain placement: the NSC's client chain after begin and metadata, before the elements whose
// state a reselect's Close ends (refresh, heal, the data path monitor).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::nsc {

class ReselectRetry final : public sdk::NetworkServiceElement {
 public:
  explicit ReselectRetry(absl::Duration retry_interval = absl::Milliseconds(200));
  ~ReselectRetry() override;

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // The application is about to close connection `id` for good.
  void ClosingByClient(const std::string& id);

  // Connections with a retry armed, and retries fired so far.
  size_t armed() const;
  int retries() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::nsc
