#include "reference/sdk/elements/filtermechanisms.h"

#include "nsmcert/api/constants.h"
#include "reference/sdk/grpc/channel_pool.h"
#include "reference/sdk/tools/url.h"

namespace nsmcert::sdk {

absl::StatusOr<connection::Connection> FilterMechanisms::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto url = ctx.values().Get<ClientUrl>();
  if (url != nullptr && !url->url.empty()) {
    const std::string_view keep =
        tools::IsLocalUrlText(url->url) ? api::cls::kLocal : api::cls::kRemote;
    auto* preferences = request.mutable_mechanism_preferences();
    for (int i = preferences->size() - 1; i >= 0; --i) {
      if (preferences->Get(i).cls() != keep) preferences->DeleteSubrange(i, 1);
    }
  }
  return next.Request(ctx, request);
}

}  // namespace nsmcert::sdk
