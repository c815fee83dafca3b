// The registry chains: elements for NetworkServiceEndpointRegistry and NetworkServiceRegistry
// (Register / Find / Unregister), with the same explicit-next model as chain.h.
//
// Find streams: an element receives a FindSink to send responses to and may hand `next` a
// wrapping sink to filter or rewrite what flows back. A non-watch Find returns after the current
// matches; a watch Find returns only when the context is cancelled or the sink fails.
//
// The tail of an outermost chain returns the resource for Register, sends nothing for Find and
// returns OK for Unregister. The undo rule of chain.h applies to Register (unregister on failure).
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "reference/sdk/chain/context.h"
#include "reference/sdk/chain/next.h"
#include "registry.pb.h"

namespace nsmcert::sdk {

// Where Find responses go. Send returns an error when the receiver is gone; the sender stops then.
// Thread-safety: a sink is used by the one thread running the Find.
template <typename Response>
class FindSink {
 public:
  virtual ~FindSink() = default;
  virtual absl::Status Send(const Response& response) = 0;
};

// A sink that forwards to a function (handy for wrapping sinks and for tests).
template <typename Response>
class FunctionSink : public FindSink<Response> {
 public:
  explicit FunctionSink(std::function<absl::Status(const Response&)> fn) : fn_(std::move(fn)) {}
  absl::Status Send(const Response& response) override { return fn_(response); }

 private:
  std::function<absl::Status(const Response&)> fn_;
};

// The message types of one registry service.
struct NseRegistryTypes {
  using Resource = registry::NetworkServiceEndpoint;
  using Query = registry::NetworkServiceEndpointQuery;
  using Response = registry::NetworkServiceEndpointResponse;
};
struct NsRegistryTypes {
  using Resource = registry::NetworkService;
  using Query = registry::NetworkServiceQuery;
  using Response = registry::NetworkServiceResponse;
};

template <typename Types>
class RegistryElement;

template <typename Types>
class RegistryNext : public NextBase<RegistryElement<Types>, RegistryNext<Types>> {
 public:
  using Base = NextBase<RegistryElement<Types>, RegistryNext<Types>>;
  using Base::Base;
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;

  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource) const {
    return this->Dispatch(
        [&](RegistryElement<Types>& e, const RegistryNext& after) {
          return e.Register(ctx, resource, after);
        },
        [&]() -> absl::StatusOr<Resource> { return resource; });
  }
  absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink) const {
    return this->Dispatch(
        [&](RegistryElement<Types>& e, const RegistryNext& after) {
          return e.Find(ctx, query, sink, after);
        },
        [] { return absl::OkStatus(); });
  }
  absl::Status Unregister(Context& ctx, Resource& resource) const {
    return this->Dispatch(
        [&](RegistryElement<Types>& e, const RegistryNext& after) {
          return e.Unregister(ctx, resource, after);
        },
        [] { return absl::OkStatus(); });
  }
};

template <typename Types>
class RegistryElement {
 public:
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = RegistryNext<Types>;

  virtual ~RegistryElement() = default;
  // Defaults pass the call on unchanged.
  virtual absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) {
    return next.Register(ctx, resource);
  }
  virtual absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                            const Next& next) {
    return next.Find(ctx, query, sink);
  }
  virtual absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) {
    return next.Unregister(ctx, resource);
  }
};

template <typename Types>
class RegistryChain final : public RegistryElement<Types> {
 public:
  using Element = RegistryElement<Types>;
  using Resource = typename Types::Resource;
  using Query = typename Types::Query;
  using Response = typename Types::Response;
  using Next = RegistryNext<Types>;
  using Elements = std::vector<std::shared_ptr<Element>>;

  // Fails (instead of crashing later) when an element is null.
  static absl::StatusOr<std::shared_ptr<RegistryChain>> Make(Elements elements) {
    for (size_t i = 0; i < elements.size(); ++i) {
      if (elements[i] == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("registry chain element ", i, " is null"));
      }
    }
    return std::shared_ptr<RegistryChain>(
        new RegistryChain(std::make_shared<const Elements>(std::move(elements))));
  }

  // Run the chain as a whole.
  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource) {
    return Start(nullptr).Register(ctx, resource);
  }
  absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink) {
    return Start(nullptr).Find(ctx, query, sink);
  }
  absl::Status Unregister(Context& ctx, Resource& resource) {
    return Start(nullptr).Unregister(ctx, resource);
  }

  // As an element of an enclosing chain.
  absl::StatusOr<Resource> Register(Context& ctx, Resource& resource, const Next& next) override {
    return Start(&next).Register(ctx, resource);
  }
  absl::Status Find(Context& ctx, const Query& query, FindSink<Response>& sink,
                    const Next& next) override {
    return Start(&next).Find(ctx, query, sink);
  }
  absl::Status Unregister(Context& ctx, Resource& resource, const Next& next) override {
    return Start(&next).Unregister(ctx, resource);
  }

  size_t size() const { return elements_->size(); }

 private:
  explicit RegistryChain(std::shared_ptr<const Elements> elements)
      : elements_(std::move(elements)) {}
  Next Start(const Next* outer) const {
    return Next(elements_, 0, outer ? std::make_shared<const Next>(*outer) : nullptr);
  }

  std::shared_ptr<const Elements> elements_;
};

using NseRegistryElement = RegistryElement<NseRegistryTypes>;
using NseRegistryNext = RegistryNext<NseRegistryTypes>;
using NseRegistryChain = RegistryChain<NseRegistryTypes>;
using NsRegistryElement = RegistryElement<NsRegistryTypes>;
using NsRegistryNext = RegistryNext<NsRegistryTypes>;
using NsRegistryChain = RegistryChain<NsRegistryTypes>;
using NseFindSink = FindSink<registry::NetworkServiceEndpointResponse>;
using NsFindSink = FindSink<registry::NetworkServiceResponse>;

}  // namespace nsmcert::sdk
