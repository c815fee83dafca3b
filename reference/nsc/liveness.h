// Data-plane liveness of an NSC connection (spec §11, "Data plane"): ICMP echo from every source
// address of the connection to every destination address of the same family.
//
// Rules (upstream cmd-nsc's): only connections with a KERNEL mechanism are checked, anything else
// counts as alive; a connection without a pair of addresses counts as alive; every pair must get
// at least one reply, out of `packets` echo requests spread evenly over `timeout`.
//
// The echo requests leave from the calling process's network namespace (the NSC runs inside its
// own), bound to the source address. A raw ICMP socket is used when permitted, otherwise an
// unprivileged ping socket. Pairs are checked concurrently, so a check takes at most `timeout`.
//
// Threading: the functions are thread-safe; IcmpLivenessChecker is immutable.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "connection.pb.h"

namespace nsmcert::nsc {

struct LivenessPair {
  std::string src;  // address without prefix length
  std::string dst;
  bool ipv6 = false;
  friend bool operator==(const LivenessPair&, const LivenessPair&) = default;
};

// The pairs a check pings, in address order: every src address with every dst address of the same
// family. Empty when the mechanism is not KERNEL or an address list is empty. Addresses that do
// not parse are skipped.
std::vector<LivenessPair> LivenessPairs(const connection::Connection& conn);

struct LivenessOptions {
  absl::Duration timeout = absl::Seconds(1);  // NSM_LIVENESS_CHECK_TIMEOUT
  int packets = 4;
};

// Pings `pair.dst` from `pair.src`: true on the first reply, false when none came within the
// timeout or the echo request could not be sent (no route, device down). Errors name the pair: no
// ICMP socket (permissions), or a source address this namespace does not hold (the interface is
// gone).
absl::StatusOr<bool> Ping(const LivenessPair& pair, const LivenessOptions& options = {});

// The check heal runs: true if every pair of `conn` answered (see the rules above); a pair whose
// ping failed with an error counts as dead.
bool CheckLiveness(const connection::Connection& conn, const LivenessOptions& options = {});

}  // namespace nsmcert::nsc
