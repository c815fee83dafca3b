#include "reference/sdk/tools/ipam.h"

#include <iterator>
#include <map>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "reference/sdk/tools/internal/strings.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;

struct Range {
  IpFamily family;
  absl::uint128 first;
  absl::uint128 last;
};

absl::StatusOr<std::vector<Range>> ParseExcluded(const connectioncontext::IPContext& ip_context) {
  std::vector<Range> ranges;
  for (int i = 0; i < ip_context.excluded_prefixes_size(); ++i) {
    absl::StatusOr<Cidr> cidr = Cidr::Parse(ip_context.excluded_prefixes(i));
    if (!cidr.ok()) {
      return absl::InvalidArgumentError(
          Cat("ip_context.excluded_prefixes[", i, "]: ", cidr.status().message()));
    }
    ranges.push_back({cidr->family(), cidr->network().value(), cidr->last().value()});
  }
  return ranges;
}

bool IsExcluded(const std::vector<Range>& excluded, const IpAddress& address) {
  for (const Range& r : excluded) {
    if (r.family == address.family() && address.value() >= r.first && address.value() <= r.last) {
      return true;
    }
  }
  return false;
}

// The address part of an ip_context entry ("a.b.c.d/32" or a bare address), if it parses.
std::optional<IpAddress> EntryAddress(std::string_view entry) {
  absl::StatusOr<IpAddress> address = IpAddress::ParseWithOptionalPrefix(entry);
  if (!address.ok()) return std::nullopt;
  return *address;
}

void AddUnique(google::protobuf::RepeatedPtrField<std::string>& list, const std::string& value) {
  for (const std::string& existing : list) {
    if (existing == value) return;
  }
  *list.Add() = value;
}

void RemoveFirst(google::protobuf::RepeatedPtrField<std::string>& list, const std::string& value) {
  for (int i = 0; i < list.size(); ++i) {
    if (list[i] == value) {
      list.DeleteSubrange(i, 1);
      return;
    }
  }
}

void AddRoute(google::protobuf::RepeatedPtrField<connectioncontext::Route>& routes,
              const std::string& prefix) {
  for (const connectioncontext::Route& route : routes) {
    if (route.prefix() == prefix) return;
  }
  routes.Add()->set_prefix(prefix);
}

void RemoveRoute(google::protobuf::RepeatedPtrField<connectioncontext::Route>& routes,
                 const std::string& prefix) {
  for (int i = 0; i < routes.size(); ++i) {
    if (routes[i].prefix() == prefix) {
      routes.DeleteSubrange(i, 1);
      return;
    }
  }
}

}  // namespace

// Free addresses of one prefix as disjoint inclusive ranges keyed by their first address.
class PointToPointIpam::Pool {
 public:
  explicit Pool(const Cidr& prefix) : family_(prefix.family()) {
    free_[prefix.network().value()] = prefix.last().value();
  }

  IpFamily family() const { return family_; }

  bool IsFree(const IpAddress& address) const {
    if (address.family() != family_) return false;
    auto it = free_.upper_bound(address.value());
    if (it == free_.begin()) return false;
    --it;
    return address.value() <= it->second;
  }

  // The lowest free address that is not excluded and not `skip`.
  std::optional<IpAddress> LowestFree(const std::vector<Range>& excluded,
                                      const std::optional<IpAddress>& skip) const {
    for (const auto& [first, last] : free_) {
      absl::uint128 candidate = first;
      while (true) {
        const IpAddress address = IpAddress::FromValue(family_, candidate);
        std::optional<absl::uint128> blocked_until;
        if (skip.has_value() && *skip == address) blocked_until = candidate;
        for (const Range& r : excluded) {
          if (r.family == family_ && candidate >= r.first && candidate <= r.last &&
              (!blocked_until.has_value() || r.last > *blocked_until)) {
            blocked_until = r.last;
          }
        }
        if (!blocked_until.has_value()) return address;
        if (*blocked_until >= last) break;  // the rest of this range is blocked
        candidate = *blocked_until + 1;
      }
    }
    return std::nullopt;
  }

  void Take(const IpAddress& address) {
    auto it = free_.upper_bound(address.value());
    if (it == free_.begin()) return;
    --it;
    const absl::uint128 first = it->first;
    const absl::uint128 last = it->second;
    const absl::uint128 value = address.value();
    if (value > last) return;
    free_.erase(it);
    if (first < value) free_[first] = value - 1;
    if (value < last) free_[value + 1] = last;
  }

  void Give(const IpAddress& address) {
    if (IsFree(address)) return;
    absl::uint128 first = address.value();
    absl::uint128 last = address.value();
    // Merge with the range that ends right before and the one that starts right after.
    auto next = free_.upper_bound(first);
    if (next != free_.begin()) {
      auto prev = std::prev(next);
      if (prev->second + 1 == first) {
        first = prev->first;
        free_.erase(prev);
      }
    }
    next = free_.find(last + 1);
    if (last != ~absl::uint128(0) && next != free_.end()) {
      last = next->second;
      free_.erase(next);
    }
    free_[first] = last;
  }

 private:
  IpFamily family_;
  std::map<absl::uint128, absl::uint128> free_;
};

PointToPointIpam::PointToPointIpam(std::vector<Cidr> prefixes) : prefixes_(std::move(prefixes)) {
  for (const Cidr& prefix : prefixes_) pools_.push_back(std::make_unique<Pool>(prefix));
}

PointToPointIpam::~PointToPointIpam() = default;

absl::StatusOr<std::unique_ptr<PointToPointIpam>> PointToPointIpam::Create(
    std::vector<Cidr> prefixes) {
  if (prefixes.empty()) return absl::InvalidArgumentError("IPAM needs one or more prefixes");
  for (Cidr& prefix : prefixes) prefix = prefix.Masked();
  return std::unique_ptr<PointToPointIpam>(new PointToPointIpam(std::move(prefixes)));
}

absl::StatusOr<IpamAllocation> PointToPointIpam::Request(std::string_view connection_id,
                                                         connectioncontext::IPContext& ip_context) {
  absl::StatusOr<std::vector<Range>> excluded = ParseExcluded(ip_context);
  if (!excluded.ok()) return excluded.status();

  absl::MutexLock lock(&mu_);
  const std::string id(connection_id);
  bool newly_allocated = false;
  auto held = held_.find(id);

  if (held != held_.end() &&
      (IsExcluded(*excluded, held->second.src) || IsExcluded(*excluded, held->second.dst))) {
    // The excluded prefixes changed under this connection: give its addresses back, move it.
    const std::string src = Cidr::Host(held->second.src).ToString();
    const std::string dst = Cidr::Host(held->second.dst).ToString();
    RemoveFirst(*ip_context.mutable_src_ip_addrs(), src);
    RemoveFirst(*ip_context.mutable_dst_ip_addrs(), dst);
    RemoveRoute(*ip_context.mutable_src_routes(), dst);
    RemoveRoute(*ip_context.mutable_dst_routes(), src);
    pools_[held->second.pool]->Give(held->second.src);
    pools_[held->second.pool]->Give(held->second.dst);
    held_.erase(held);
    held = held_.end();
  }

  if (held == held_.end()) {
    std::optional<Held> chosen;
    // Recovery: the request may carry addresses this allocator handed out before (a restarted
    // NSE); take them back if they are still free and allowed.
    for (size_t p = 0; p < pools_.size() && !chosen.has_value(); ++p) {
      Pool& pool = *pools_[p];
      std::optional<IpAddress> src, dst;
      for (const std::string& entry : ip_context.src_ip_addrs()) {
        std::optional<IpAddress> a = EntryAddress(entry);
        if (a && prefixes_[p].Contains(*a) && pool.IsFree(*a) && !IsExcluded(*excluded, *a)) {
          src = a;
          break;
        }
      }
      for (const std::string& entry : ip_context.dst_ip_addrs()) {
        std::optional<IpAddress> a = EntryAddress(entry);
        if (a && a != src && prefixes_[p].Contains(*a) && pool.IsFree(*a) &&
            !IsExcluded(*excluded, *a)) {
          dst = a;
          break;
        }
      }
      if (src && dst) chosen = Held{p, *src, *dst};
    }
    // Otherwise the two lowest free addresses of the first pool that has them.
    for (size_t p = 0; p < pools_.size() && !chosen.has_value(); ++p) {
      std::optional<IpAddress> dst = pools_[p]->LowestFree(*excluded, std::nullopt);
      if (!dst) continue;
      std::optional<IpAddress> src = pools_[p]->LowestFree(*excluded, dst);
      if (src) chosen = Held{p, *src, *dst};
    }
    if (!chosen.has_value()) {
      std::string prefixes;
      for (const Cidr& prefix : prefixes_)
        internal::Append(&prefixes, prefixes.empty() ? "" : ",", prefix.ToString());
      return absl::ResourceExhaustedError(
          Cat("IPAM pool ", prefixes, " has no two free addresses outside the excluded prefixes"));
    }
    pools_[chosen->pool]->Take(chosen->src);
    pools_[chosen->pool]->Take(chosen->dst);
    held = held_.emplace(id, *chosen).first;
    newly_allocated = true;
  }

  IpamAllocation allocation;
  allocation.src_address = Cidr::Host(held->second.src).ToString();
  allocation.dst_address = Cidr::Host(held->second.dst).ToString();
  allocation.newly_allocated = newly_allocated;
  AddUnique(*ip_context.mutable_src_ip_addrs(), allocation.src_address);
  AddRoute(*ip_context.mutable_src_routes(), allocation.dst_address);
  AddUnique(*ip_context.mutable_dst_ip_addrs(), allocation.dst_address);
  AddRoute(*ip_context.mutable_dst_routes(), allocation.src_address);
  return allocation;
}

void PointToPointIpam::Close(std::string_view connection_id) {
  absl::MutexLock lock(&mu_);
  auto held = held_.find(std::string(connection_id));
  if (held == held_.end()) return;
  pools_[held->second.pool]->Give(held->second.src);
  pools_[held->second.pool]->Give(held->second.dst);
  held_.erase(held);
}

size_t PointToPointIpam::connection_count() const {
  absl::MutexLock lock(&mu_);
  return held_.size();
}

absl::StatusOr<std::unique_ptr<GroupIpam>> GroupIpam::Create(std::vector<std::vector<Cidr>> groups,
                                                             IpamPolicy policy) {
  if (groups.empty()) return absl::InvalidArgumentError("IPAM needs one or more CIDR groups");
  std::vector<std::unique_ptr<PointToPointIpam>> allocators;
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::StatusOr<std::unique_ptr<PointToPointIpam>> allocator =
        PointToPointIpam::Create(std::move(groups[i]));
    if (!allocator.ok()) {
      return absl::InvalidArgumentError(Cat("CIDR group ", i, ": ", allocator.status().message()));
    }
    allocators.push_back(*std::move(allocator));
  }
  return std::unique_ptr<GroupIpam>(new GroupIpam(std::move(allocators), policy));
}

absl::StatusOr<std::unique_ptr<GroupIpam>> GroupIpam::FromCidrPrefix(
    std::string_view nsm_cidr_prefix, IpamPolicy policy) {
  absl::StatusOr<std::vector<std::vector<Cidr>>> groups = ParseCidrGroups(nsm_cidr_prefix);
  if (!groups.ok()) return groups.status();
  return Create(*std::move(groups), policy);
}

bool GroupIpam::InsideAnyPrefix(std::string_view entry) const {
  std::optional<IpAddress> address = EntryAddress(entry);
  if (!address.has_value()) return false;
  for (const auto& group : groups_) {
    for (const Cidr& prefix : group->prefixes()) {
      if (prefix.Contains(*address)) return true;
    }
  }
  return false;
}

absl::StatusOr<std::vector<IpamAllocation>> GroupIpam::Request(
    std::string_view connection_id, connectioncontext::IPContext& ip_context) {
  if (policy_ == IpamPolicy::kStrict) {
    bool all_inside = true;
    for (const std::string& a : ip_context.src_ip_addrs())
      all_inside = all_inside && InsideAnyPrefix(a);
    for (const std::string& a : ip_context.dst_ip_addrs())
      all_inside = all_inside && InsideAnyPrefix(a);
    if (!all_inside) ip_context.Clear();
  }
  std::vector<IpamAllocation> allocations;
  for (size_t i = 0; i < groups_.size(); ++i) {
    absl::StatusOr<IpamAllocation> allocation = groups_[i]->Request(connection_id, ip_context);
    if (!allocation.ok()) {
      Undo(connection_id, allocations);
      return allocation.status();
    }
    allocations.push_back(*std::move(allocation));
  }
  return allocations;
}

void GroupIpam::Undo(std::string_view connection_id,
                     const std::vector<IpamAllocation>& allocations) {
  for (size_t i = 0; i < allocations.size() && i < groups_.size(); ++i) {
    if (allocations[i].newly_allocated) groups_[i]->Close(connection_id);
  }
}

void GroupIpam::Close(std::string_view connection_id) {
  for (const auto& group : groups_) group->Close(connection_id);
}

}  // namespace nsmcert::sdk::tools
