#include "reference/sdk/chain/chain.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace nsmcert::sdk {

absl::StatusOr<connection::Connection> NetworkServiceNext::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request) const {
  return Dispatch(
      [&](NetworkServiceElement& element, const NetworkServiceNext& after) {
        return element.Request(ctx, request, after);
      },
      [&]() -> absl::StatusOr<connection::Connection> { return request.connection(); });
}

absl::Status NetworkServiceNext::Close(Context& ctx, connection::Connection& conn) const {
  return Dispatch([&](NetworkServiceElement& element,
                      const NetworkServiceNext& after) { return element.Close(ctx, conn, after); },
                  [] { return absl::OkStatus(); });
}

absl::StatusOr<std::shared_ptr<NetworkServiceChain>> NetworkServiceChain::Make(
    std::vector<std::shared_ptr<NetworkServiceElement>> elements) {
  for (size_t i = 0; i < elements.size(); ++i) {
    if (elements[i] == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("chain element ", i, " is null"));
    }
  }
  auto shared = std::make_shared<const std::vector<std::shared_ptr<NetworkServiceElement>>>(
      std::move(elements));
  return std::shared_ptr<NetworkServiceChain>(new NetworkServiceChain(std::move(shared)));
}

NetworkServiceNext NetworkServiceChain::Start(const NetworkServiceNext* outer) const {
  return NetworkServiceNext(elements_, 0,
                            outer ? std::make_shared<const NetworkServiceNext>(*outer) : nullptr);
}

absl::StatusOr<connection::Connection> NetworkServiceChain::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request) {
  return Start(nullptr).Request(ctx, request);
}

absl::Status NetworkServiceChain::Close(Context& ctx, connection::Connection& conn) {
  return Start(nullptr).Close(ctx, conn);
}

absl::StatusOr<connection::Connection> NetworkServiceChain::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  return Start(&next).Request(ctx, request);
}

absl::Status NetworkServiceChain::Close(Context& ctx, connection::Connection& conn,
                                        const NetworkServiceNext& next) {
  return Start(&next).Close(ctx, conn);
}

}  // namespace nsmcert::sdk
