// Point-to-point IPAM of an NSE (spec §6; upstream point2pointipam / groupipam / strictipam).
//
// For a new connection the allocator takes the two lowest free addresses of its pool (the network
// address included): the lower becomes the endpoint side (dst, NSE), the next the client side
// (src, NSC), each as a /32 or /128. It adds src_routes += dst and dst_routes += src. Addresses are
// kept per connection id across refreshes; addresses the request already carries are recovered
// when they are free in the pool (after an NSE restart); a connection whose addresses fall into the
// request's excluded_prefixes is given new ones; Close returns them to the pool.
//
// Example: pool 172.16.1.100/31 -> NSE 172.16.1.100/32, NSC 172.16.1.101/32. With excluded
// 172.16.1.201/32 and 172.16.1.202/32, pool 172.16.1.200/30 gives NSE .200, NSC .203.
//
// Thread-safe: every method locks the allocator.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "connectioncontext.pb.h"
#include "reference/sdk/tools/cidr.h"

namespace nsmcert::sdk::tools {

struct IpamAllocation {
  std::string src_address;  // NSC side, "a.b.c.d/32"
  std::string dst_address;  // NSE side
  // True if this request took the addresses from the pool (new connection, recovery, or
  // reallocation away from excluded prefixes). A caller whose downstream then fails undoes it with
  // Close(connection id); a refresh (false) keeps its addresses even if downstream fails.
  bool newly_allocated = false;
};

// One allocator over one list of prefixes (one `NSM_CIDR_PREFIX` group). The first prefix with two
// free addresses serves a new connection.
class PointToPointIpam {
 public:
  // InvalidArgument if `prefixes` is empty.
  static absl::StatusOr<std::unique_ptr<PointToPointIpam>> Create(std::vector<Cidr> prefixes);
  ~PointToPointIpam();

  // The Request step for `connection_id` on the request's IP context (modified in place).
  // Errors: InvalidArgument for an unparseable excluded prefix (naming it); ResourceExhausted
  // when no prefix has two free addresses outside the excluded prefixes.
  absl::StatusOr<IpamAllocation> Request(std::string_view connection_id,
                                         connectioncontext::IPContext& ip_context);

  // The Close step: returns the connection's addresses to the pool. Unknown ids are ignored.
  void Close(std::string_view connection_id);

  const std::vector<Cidr>& prefixes() const { return prefixes_; }
  // Number of connections holding addresses.
  size_t connection_count() const;

 private:
  class Pool;
  struct Held {
    size_t pool = 0;
    IpAddress src;
    IpAddress dst;
  };

  explicit PointToPointIpam(std::vector<Cidr> prefixes);

  std::vector<Cidr> prefixes_;
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Pool>> pools_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Held> held_ ABSL_GUARDED_BY(mu_);
};

enum class IpamPolicy {
  // Accept what the client asks for (upstream default, NSM_IPAM_POLICY=polite).
  kPolite,
  // If any requested src/dst address lies outside every configured prefix, clear the whole IP
  // context before allocating (NSM_IPAM_POLICY=strict). Like upstream this also drops the
  // request's excluded prefixes.
  kStrict,
};

// The NSE's IPAM: one PointToPointIpam per group, applied in order (dual stack: a v4 group and a
// v6 group give each connection one pair of each).
class GroupIpam {
 public:
  // InvalidArgument if there are no groups or a group is empty.
  static absl::StatusOr<std::unique_ptr<GroupIpam>> Create(std::vector<std::vector<Cidr>> groups,
                                                           IpamPolicy policy = IpamPolicy::kPolite);
  // From `NSM_CIDR_PREFIX` text (see ParseCidrGroups).
  static absl::StatusOr<std::unique_ptr<GroupIpam>> FromCidrPrefix(
      std::string_view nsm_cidr_prefix, IpamPolicy policy = IpamPolicy::kPolite);

  // Applies every group. If a group fails, addresses newly taken by earlier groups in this call
  // are returned before the error is. One allocation per group, in group order.
  absl::StatusOr<std::vector<IpamAllocation>> Request(std::string_view connection_id,
                                                      connectioncontext::IPContext& ip_context);
  // Undoes a Request whose downstream failed: returns what that Request newly took.
  void Undo(std::string_view connection_id, const std::vector<IpamAllocation>& allocations);
  void Close(std::string_view connection_id);

 private:
  GroupIpam(std::vector<std::unique_ptr<PointToPointIpam>> groups, IpamPolicy policy)
      : groups_(std::move(groups)), policy_(policy) {}
  bool InsideAnyPrefix(std::string_view address) const;

  std::vector<std::unique_ptr<PointToPointIpam>> groups_;
  IpamPolicy policy_;
};

}  // namespace nsmcert::sdk::tools
