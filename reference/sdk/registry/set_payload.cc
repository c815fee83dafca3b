#include "reference/sdk/registry/set_payload.h"

namespace nsmcert::sdk::reg {

SetPayload::SetPayload(std::string payload) : payload_(std::move(payload)) {}

absl::StatusOr<registry::NetworkService> SetPayload::Register(Context& ctx,
                                                              registry::NetworkService& ns,
                                                              const NsRegistryNext& next) {
  if (ns.payload().empty()) ns.set_payload(payload_);
  return next.Register(ctx, ns);
}

}  // namespace nsmcert::sdk::reg
