// The reference NSC's client (like upstream's cmd-nsc on the sdk client chain): requests network
// services from the node's nsmgr, keeps the connections refreshed, heals them, and closes them.
//
// The chain, in client.cc, reads top to bottom as one list (spec §10, "NSC client"):
//   updatepath → begin → metadata → path change log → reselect retry → refresh →
//   clienturl(nsmgr) → heal → data path monitor → clientinfo → kernel mechanism →
//   excludedprefixes → updatetoken → redial → connect
//
// What a peer observes: every Request starts the path with segment {name, connection id}
// (cmd-nsc's ids are `<name>-<i>`); it carries this client's per-RPC token and a KERNEL mechanism
// preference for an interface in this client's network namespace; refreshes come at ~0.2 of the
// tokens' lifetime; after a control-plane break (the nsmgr's monitor stream fails or reports the
// connection DOWN) the connection is re-requested (data path alive) or reselected (dead, or no
// liveness check); a failed data-path check reselects too (spec §11).
//
// Lifetime: the clock must outlive the client. Close every connection (CloseAll) before dropping
// the client: begin keeps established connections' chains alive.
// Threading: thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "reference/nsc/datapath_monitor.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/clock.h"
#include "reference/sdk/elements/connection_event_stream.h"
#include "reference/sdk/elements/heal.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/jwt.h"
#include "reference/sdk/tools/labels.h"

namespace nsmcert::nsc {

struct NscOptions {
  // NSM_NAME: the first path segment's name. Required.
  std::string name = "nsc";
  // NSM_CONNECT_TO: the nsmgr. Required.
  std::string connect_to;
  // Signs the per-RPC tokens this client presents. Required.
  std::shared_ptr<sdk::tools::TokenSigner> signer;
  // This client's network namespace as an inode URL (kernel::NetNs::Current()->InodeUrl()), where
  // the forwarder creates the client's interfaces. Required.
  std::string netns_url;
  // Heal connections (monitor stream on the nsmgr). Off for one-shot use.
  bool heal = true;
  // The data-plane liveness check (CheckLiveness, or a fake): asked once after a control-plane
  // break to choose re-request over reselect, and every `liveness_interval` while connected (zero:
  // only after a break). Unset: every control-plane break reselects.
  std::function<bool(const connection::Connection&)> liveness;
  absl::Duration liveness_interval = absl::Milliseconds(200);
  // Between heal, reselect and request attempts.
  absl::Duration retry_interval = absl::Milliseconds(200);
  // Outgoing connections (nsmgr, monitor streams). Default: plain gRPC.
  std::shared_ptr<sdk::ChannelPool> channels;
  // Clock of call contexts and timers (refresh, heal retries, liveness interval).
  sdk::Clock* clock = &sdk::Clock::Real();
  // NODE_NAME, POD_NAME, CLUSTER_NAME for the clientinfo labels.
  sdk::tools::EnvLookup env = sdk::tools::ProcessEnv;
  // Seams for in-process use and tests: the tail that reaches the nsmgr (default: gRPC over
  // `channels` to connect_to) and how monitor streams are opened (default: gRPC).
  std::shared_ptr<sdk::NetworkServiceElement> connect;
  sdk::ConnectionEventStreamOpener monitor;
};

class NscClient {
 public:
  // INVALID_ARGUMENT naming the option that is missing or malformed.
  static absl::StatusOr<std::unique_ptr<NscClient>> Create(NscOptions options);
  NscClient(const NscClient&) = delete;
  NscClient& operator=(const NscClient&) = delete;
  ~NscClient();

  // One attempt, bounded by `timeout`. The connection is kept (refreshed, healed) from then on,
  // until Close.
  absl::StatusOr<connection::Connection> Request(networkservice::NetworkServiceRequest request,
                                                 absl::Duration timeout);
  // Attempts every retry_interval (each bounded by `attempt_timeout`) until one succeeds, `give_up`
  // has passed (InfiniteDuration: never; the last error is returned), or `lifetime` is cancelled
  // (CANCELLED). Waits between attempts in real time. `on_failure` (optional) sees every failure.
  absl::StatusOr<connection::Connection> RequestUntilConnected(
      const networkservice::NetworkServiceRequest& request, absl::Duration attempt_timeout,
      absl::Duration give_up, const sdk::Context& lifetime,
      const std::function<void(const absl::Status&)>& on_failure = {});
  // Closes for good: heal, refresh and checks stop, and the Close goes along the path.
  absl::Status Close(const connection::Connection& conn, absl::Duration timeout);
  // Closes every connection this client requested and has not closed; returns the first error.
  absl::Status CloseAll(absl::Duration timeout);

  // The chain, to call in process.
  const std::shared_ptr<sdk::NetworkServiceChain>& chain() const { return chain_; }
  const std::shared_ptr<sdk::Heal>& heal() const { return heal_; }
  const std::shared_ptr<DataPathMonitor>& data_path_monitor() const { return data_path_; }

 private:
  NscClient() = default;

  NscOptions options_;
  std::shared_ptr<sdk::Heal> heal_;
  std::shared_ptr<DataPathMonitor> data_path_;
  std::shared_ptr<sdk::NetworkServiceChain> chain_;
  std::mutex mu_;
  std::map<std::string, connection::Connection> requested_;  // by connection id
};

}  // namespace nsmcert::nsc
