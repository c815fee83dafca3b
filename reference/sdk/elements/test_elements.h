// Tiny fake elements for the element tests (test-only; not part of nsmcert_sdk_elements).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk::testing {

// Records every Request and Close that reaches it and passes them on. Hooks may change the request
// or fail the call. Thread-safe.
class Recorder : public NetworkServiceElement {
 public:
  using RequestHook = std::function<absl::Status(Context&, networkservice::NetworkServiceRequest&)>;
  using CloseHook = std::function<absl::Status(Context&, connection::Connection&)>;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    RequestHook hook;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      hook = on_request;
    }
    if (hook) {
      absl::Status status = hook(ctx, request);
      if (!status.ok()) return status;
    }
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    CloseHook hook;
    {
      std::lock_guard lock(mu_);
      closes_.push_back(conn);
      hook = on_close;
    }
    if (hook) {
      absl::Status status = hook(ctx, conn);
      if (!status.ok()) return status;
    }
    return next.Close(ctx, conn);
  }

  std::vector<networkservice::NetworkServiceRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<connection::Connection> closes() const {
    std::lock_guard lock(mu_);
    return closes_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  size_t close_count() const {
    std::lock_guard lock(mu_);
    return closes_.size();
  }

  // Set before calls start.
  RequestHook on_request;
  CloseHook on_close;

 private:
  mutable std::mutex mu_;
  std::vector<networkservice::NetworkServiceRequest> requests_;
  std::vector<connection::Connection> closes_;
};

// Lets the rest of the chain succeed, then fails its own step and undoes the rest (the undo rule).
class FailsAfterNext : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto conn = next.Request(ctx, request);
    if (!conn.ok()) return conn;
    (void)next.Close(ctx, *conn);
    return absl::InternalError("own step failed after next");
  }
};

inline std::shared_ptr<NetworkServiceChain> MakeChain(
    std::vector<std::shared_ptr<NetworkServiceElement>> elements) {
  auto chain = NetworkServiceChain::Make(std::move(elements));
  return chain.ok() ? *chain : nullptr;
}

}  // namespace nsmcert::sdk::testing
