#include "reference/sdk/registry/set_registration_time.h"

#include <google/protobuf/util/time_util.h>

#include "absl/time/time.h"

namespace nsmcert::sdk::reg {

absl::StatusOr<registry::NetworkServiceEndpoint> SetRegistrationTime::Register(
    Context& ctx, registry::NetworkServiceEndpoint& nse, const NseRegistryNext& next) {
  {
    std::lock_guard lock(mu_);
    if (auto it = first_registered_.find(nse.name()); it != first_registered_.end()) {
      *nse.mutable_initial_registration_time() = it->second;
    } else if (!nse.has_initial_registration_time()) {
      *nse.mutable_initial_registration_time() =
          google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(ctx.Now()));
    }
  }
  google::protobuf::Timestamp stamp = nse.initial_registration_time();
  auto result = next.Register(ctx, nse);
  if (!result.ok()) return result;
  std::lock_guard lock(mu_);
  first_registered_.try_emplace(result->name(), stamp);
  return result;
}

absl::Status SetRegistrationTime::Unregister(Context& ctx, registry::NetworkServiceEndpoint& nse,
                                             const NseRegistryNext& next) {
  {
    std::lock_guard lock(mu_);
    first_registered_.erase(nse.name());
  }
  return next.Unregister(ctx, nse);
}

size_t SetRegistrationTime::size() const {
  std::lock_guard lock(mu_);
  return first_registered_.size();
}

}  // namespace nsmcert::sdk::reg
