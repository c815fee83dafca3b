// datapath monitor (client side, NSC): the periodic half of heal's data-plane liveness check
// (spec §11, "Data plane ... periodic liveness check every NSM_LIVENESS_CHECK_INTERVAL"). The
// control-plane half (monitor stream, DOWN events) is sdk::Heal's.
//
// Guarantees:
// - After a successful Request (inside begin) the connection's data path is checked with
//   `liveness` every `interval`, on the context's clock, on a thread of this element.
// - When a check fails, the connection is reselected once through begin's EventFactory (Close of
//   the old path, then Request with mechanism and endpoint name cleared and state
//   RESELECT_REQUESTED), on the clock (a timer due at once), never on the checking thread; no
//   further check runs for that path. A reselect that fails is retried by sdk::Heal, which
//   keeps retrying any failed reselect of the connection.
// - Every successful Request (refresh, heal) checks the path it returned from then on; Close
//   stops checking before the Close goes on.
//
// Threading: one checking thread per connection, joined on Close and on destruction.
//
// Chain placement: the NSC's client chain after begin (it needs the EventFactory), next to heal.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::nsc {

struct DataPathMonitorOptions {
  // True when the connection's data path works (CheckLiveness, or a fake). Required.
  std::function<bool(const connection::Connection&)> liveness;
  absl::Duration interval = absl::Milliseconds(200);  // NSM_LIVENESS_CHECK_INTERVAL
};

class DataPathMonitor final : public sdk::NetworkServiceElement {
 public:
  explicit DataPathMonitor(DataPathMonitorOptions options);
  ~DataPathMonitor() override;

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;
  absl::Status Close(sdk::Context& ctx, connection::Connection& conn,
                     const sdk::NetworkServiceNext& next) override;

  // Connections being checked.
  size_t checking() const;
  // Checks that found the data path dead so far (each fired one reselect).
  int failures() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace nsmcert::nsc
