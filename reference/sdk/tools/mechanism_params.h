// Mechanism parameter rules (spec §4) and the NSC's NSURL (§13.4):
// - VXLAN VNI choice by upstream's parity rule, unique per (src_ip, vni);
// - tunnel MTU arithmetic;
// - kernel interface names: generation and validation;
// - `kernel://service/ifname?k=v` NSURLs.
//
// Free functions are pure and thread-safe; VniAllocator is thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "connection.pb.h"
#include "reference/sdk/tools/cidr.h"

namespace nsmcert::sdk::tools {

// ---- VXLAN VNI ---------------------------------------------------------------------------------

// Parses a `vni` parameter: decimal, 1 .. 2^24-1. InvalidArgument otherwise (naming the value).
absl::StatusOr<uint32_t> ParseVni(std::string_view text);

// Upstream's parity rule: the VNI must be even if the source tunnel IP (`orig_src_ip` if present,
// else `src_ip`) is <= the destination one (`orig_dst_ip` if present, else `dst_ip`), comparing
// their 16-byte forms byte-wise; odd otherwise. An unparseable source means even, then an
// unparseable destination means odd. This keeps the two directions of a pair of tunnel endpoints
// from picking the same VNI.
bool VniMustBeEven(const connection::Mechanism& mechanism);

// Chooses VNIs on the VXLAN server side (the remote forwarder) and remembers them per src_ip.
class VniAllocator {
 public:
  // `random` supplies 32-bit random numbers (tests inject a sequence); default: a seeded PRNG.
  explicit VniAllocator(std::function<uint32_t()> random = {});

  // Sets parameters["vni"] on a VXLAN mechanism whose src_ip and dst_ip are set (the server sets
  // its dst_ip first). A valid VNI already present (a refresh) is kept and remembered. Otherwise a
  // random VNI of the right parity not yet used with this src_ip is chosen. Errors:
  // InvalidArgument if src_ip or dst_ip is missing or not an IP address; ResourceExhausted if no
  // free VNI turns up after many attempts.
  absl::StatusOr<uint32_t> Assign(connection::Mechanism& mechanism);

  // Forgets the (src_ip, vni) of a closed connection. Mechanisms without both are ignored.
  void Release(const connection::Mechanism& mechanism);

  size_t size() const;

 private:
  std::function<uint32_t()> random_;
  mutable absl::Mutex mu_;
  absl::flat_hash_set<std::pair<std::string, uint32_t>> used_ ABSL_GUARDED_BY(mu_);
};

// ---- MTU ---------------------------------------------------------------------------------------

inline constexpr uint32_t kMinMtu = 68;  // the smallest MTU an IPv4 link may have
inline constexpr uint32_t kMaxMtu = 65535;

// VXLAN encapsulation overhead over an IPv4 (54) or IPv6 (74) underlay.
uint32_t VxlanOverhead(IpFamily underlay);

// underlay_mtu - overhead. InvalidArgument if the result would be below kMinMtu.
absl::StatusOr<uint32_t> TunnelMtu(uint32_t underlay_mtu, uint32_t overhead);

// Parses an `MTU` parameter: decimal, kMinMtu .. kMaxMtu. InvalidArgument otherwise.
absl::StatusOr<uint32_t> ParseMtu(std::string_view text);

// The smaller of two MTUs where 0 means "not set" (mechanism MTU negotiation, context clamping).
uint32_t MinMtu(uint32_t a, uint32_t b);

// ---- Kernel interface names --------------------------------------------------------------------

// Linux's rules (dev_valid_name): 1..15 bytes, not "." or "..", no '/', ':', NUL or whitespace.
// InvalidArgument naming the name and the rule.
absl::Status ValidateInterfaceName(std::string_view name);

// A fresh name for a connection of `network_service` when nobody chose one: the first (at most 10)
// characters of the service name, '-', then random lowercase letters and digits, 15 characters in
// all. Characters not allowed or awkward in names become '-'; an empty service gives "nsm".
std::string GenerateInterfaceName(std::string_view network_service);

// ---- NSURL -------------------------------------------------------------------------------------

// `<mechanism>://<network service>[/<interface name>][?label=value&...]`, the NSC's
// NSM_NETWORK_SERVICES entries (`kernel://icmp-responder/nsm-1?color=red`).
struct NsUrl {
  std::string mechanism_type;   // the scheme upper-cased: "KERNEL", "MEMIF", "VFIO", ...
  std::string network_service;  // host, or `user@host` for interdomain (`svc@domain`)
  std::string interface_name;   // the last path segment; empty if none
  std::map<std::string, std::string> labels;  // query; repeated keys joined with ','

  // cls LOCAL, the type, and the `name` parameter when an interface name is given.
  connection::Mechanism ToMechanism() const;
};

// InvalidArgument for a URL that does not parse, has no network service, has a bad label query,
// or (KERNEL) an invalid interface name.
absl::StatusOr<NsUrl> ParseNsUrl(std::string_view text);

}  // namespace nsmcert::sdk::tools
