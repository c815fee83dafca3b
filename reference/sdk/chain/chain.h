// The NetworkService chain: elements with an explicit `next`, chains that nest.
//
// An element implements Request and Close and calls `next` at most once per call. It may change
// the request before passing it on and the connection on the way back. Contract every element
// keeps (the undo rule): if its own step fails after `next.Request` succeeded, it closes what the
// rest of the chain built (`next.Close`) before returning the error, so a failed Request leaves
// nothing behind.
//
// Threading: one element instance serves all connections; calls for different connections run
// concurrently, calls for one connection are serialised by the `begin` element. Elements keep
// per-connection state in the Context's connection metadata or in their own locked maps.
//
// The tail of an outermost chain returns `request.connection()` for Request and OK for Close.
#pragma once

#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "connection.pb.h"
#include "networkservice.pb.h"
#include "reference/sdk/chain/context.h"
#include "reference/sdk/chain/next.h"

namespace nsmcert::sdk {

class NetworkServiceElement;

class NetworkServiceNext : public NextBase<NetworkServiceElement, NetworkServiceNext> {
 public:
  using NextBase::NextBase;
  absl::StatusOr<connection::Connection> Request(
      Context& ctx, networkservice::NetworkServiceRequest& request) const;
  absl::Status Close(Context& ctx, connection::Connection& conn) const;

 private:
  friend class NextBase<NetworkServiceElement, NetworkServiceNext>;
};

class NetworkServiceElement {
 public:
  virtual ~NetworkServiceElement() = default;
  // Defaults pass the call on unchanged, so an element overrides only what it acts on.
  virtual absl::StatusOr<connection::Connection> Request(
      Context& ctx, networkservice::NetworkServiceRequest& request,
      const NetworkServiceNext& next) {
    return next.Request(ctx, request);
  }
  virtual absl::Status Close(Context& ctx, connection::Connection& conn,
                             const NetworkServiceNext& next) {
    return next.Close(ctx, conn);
  }
};

// An ordered list of elements; itself an element, so chains nest.
class NetworkServiceChain final : public NetworkServiceElement {
 public:
  // Fails (instead of crashing later) when an element is null.
  static absl::StatusOr<std::shared_ptr<NetworkServiceChain>> Make(
      std::vector<std::shared_ptr<NetworkServiceElement>> elements);

  // Runs the chain as a whole: the call ends at the tail.
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request);
  absl::Status Close(Context& ctx, connection::Connection& conn);

  // As an element of an enclosing chain: runs these elements, then continues with `next`.
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  size_t size() const { return elements_->size(); }

 private:
  explicit NetworkServiceChain(
      std::shared_ptr<const std::vector<std::shared_ptr<NetworkServiceElement>>> elements)
      : elements_(std::move(elements)) {}
  NetworkServiceNext Start(const NetworkServiceNext* outer) const;

  std::shared_ptr<const std::vector<std::shared_ptr<NetworkServiceElement>>> elements_;
};

}  // namespace nsmcert::sdk
