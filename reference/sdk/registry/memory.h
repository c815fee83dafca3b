// memory: the in-memory registry store, one per service, at the tail of a registry server chain.
//
// Guarantees:
// - Register stores what the rest of the chain returned, under its name (a refresh overwrites),
//   and tells every watcher whose query matches it.
// - Unregister removes the entry by name and tells matching watchers with `deleted=true`,
//   carrying the last stored value. Unregistering an unknown name is not an error.
// - Find with `watch=false` sends every stored entry matching the query (in name order) and ends.
// - Find with `watch=true` sends the current matches, then every later change that matches, in the
//   order the changes were made, until the context is cancelled (OK) or its deadline passes
//   (DEADLINE_EXCEEDED). No change between the snapshot and the first event is lost or doubled.
//   A watcher that falls more than `max_watch_backlog` events behind is ended with
//   RESOURCE_EXHAUSTED (it should re-open the watch); the store never blocks on a slow watcher.
// - Query matching is upstream's (sdk matchutils): tools::MatchNetworkServiceEndpointQuery and
//   tools::MatchNetworkServiceQuery.
//
// Placement: last in the chain (after expire for endpoints): Register stores what `next`
// returned, so elements after it cannot change what is stored.
//
// Threading: thread-safe. Watchers wait on their own thread (the gRPC call's), woken by changes and
// by the context's Cancel(). What nothing signals is looked at every `cancel_poll_interval`: a
// context's cancel probe (a server-side context) and its deadline (on its clock, which may be an
// injected one); a watch with neither does not poll.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::sdk::reg {

struct MemoryOptions {
  size_t max_watch_backlog = 100'000;
  absl::Duration cancel_poll_interval = absl::Milliseconds(50);
};

template <typename Types>
class Memory final : public RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = RegistryNext<Types>;

  explicit Memory(MemoryOptions options = {});
  ~Memory() override;

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override;
  absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override;

  // Direct reads for in-process users (authorize's ownership lookup, tests, benchmarks).
  std::optional<Resource> Get(const std::string& name) const;
  size_t size() const;
  // Number of open watch Finds.
  size_t watchers() const;

 private:
  struct Watcher;

  // Queues `response` on every matching watcher; mu_ must be held.
  void PublishLocked(const Response& response);
  std::vector<Resource> MatchesLocked(const Query& query) const;
  absl::Status Watch(Context& ctx, const Query& query, FindSink<Response>& sink);

  MemoryOptions options_;
  mutable std::mutex mu_;
  std::map<std::string, Resource> entries_;
  std::vector<std::shared_ptr<Watcher>> watchers_;
};

extern template class Memory<NseRegistryTypes>;
extern template class Memory<NsRegistryTypes>;
using NseMemory = Memory<NseRegistryTypes>;
using NsMemory = Memory<NsRegistryTypes>;

}  // namespace nsmcert::sdk::reg
