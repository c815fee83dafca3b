// call_log: logs every registry call of a server chain on its way out: DEBUG for successes (name,
// and for Find the number of responses), INFO for refused input and failures, with the status.
// Passes everything through unchanged.
//
// Placement: first, so that it also logs what validate refuses.
// Threading: stateless, thread-safe.
#pragma once

#include <string>

#include "reference/sdk/chain/registry_chain.h"

namespace nsmcert::registryd {

template <typename Types>
class CallLog final : public sdk::RegistryElement<Types> {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = sdk::RegistryNext<Types>;

  // `service` names the service in log lines ("nse", "ns").
  explicit CallLog(std::string service) : service_(std::move(service)) {}

  absl::StatusOr<Resource> Register(sdk::Context& ctx, Resource& resource,
                                    const Next& next) override;
  absl::Status Find(sdk::Context& ctx, const Query& query, sdk::FindSink<Response>& sink,
                    const Next& next) override;
  absl::Status Unregister(sdk::Context& ctx, Resource& resource, const Next& next) override;

 private:
  std::string service_;
};

extern template class CallLog<sdk::NseRegistryTypes>;
extern template class CallLog<sdk::NsRegistryTypes>;

}  // namespace nsmcert::registryd
