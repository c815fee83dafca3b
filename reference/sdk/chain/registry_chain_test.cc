#include "reference/sdk/chain/registry_chain.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace nsmcert::sdk {
namespace {

using registry::NetworkServiceEndpoint;
using registry::NetworkServiceEndpointQuery;
using registry::NetworkServiceEndpointResponse;

// Answers Find with two fixed endpoints and remembers registrations.
class FakeStore : public NseRegistryElement {
 public:
  std::vector<std::string> registered;
  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    registered.push_back(nse.name());
    return next.Register(ctx, nse);
  }
  absl::Status Find(Context&, const NetworkServiceEndpointQuery&, NseFindSink& sink,
                    const NseRegistryNext&) override {
    for (const char* name : {"nse-1", "nse-2"}) {
      NetworkServiceEndpointResponse r;
      r.mutable_network_service_endpoint()->set_name(name);
      if (auto s = sink.Send(r); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
};

// Rewrites the URL of every response flowing back, by wrapping the sink.
class UrlRewriter : public NseRegistryElement {
 public:
  absl::Status Find(Context& ctx, const NetworkServiceEndpointQuery& query, NseFindSink& sink,
                    const NseRegistryNext& next) override {
    FunctionSink<NetworkServiceEndpointResponse> wrapped(
        [&](const NetworkServiceEndpointResponse& r) {
          NetworkServiceEndpointResponse copy = r;
          copy.mutable_network_service_endpoint()->set_url("unix:///rewritten");
          return sink.Send(copy);
        });
    return next.Find(ctx, query, wrapped);
  }
  absl::StatusOr<NetworkServiceEndpoint> Register(Context& ctx, NetworkServiceEndpoint& nse,
                                                  const NseRegistryNext& next) override {
    nse.set_url("tcp://10.0.0.1:5001");
    return next.Register(ctx, nse);
  }
};

TEST(RegistryChain, FindResponsesFlowBackThroughWrappingSinks) {
  auto store = std::make_shared<FakeStore>();
  auto chain = NseRegistryChain::Make({std::make_shared<UrlRewriter>(), store});
  ASSERT_TRUE(chain.ok());
  Context ctx;
  std::vector<NetworkServiceEndpointResponse> got;
  FunctionSink<NetworkServiceEndpointResponse> sink([&](const auto& r) {
    got.push_back(r);
    return absl::OkStatus();
  });
  ASSERT_TRUE((*chain)->Find(ctx, NetworkServiceEndpointQuery(), sink).ok());
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[1].network_service_endpoint().name(), "nse-2");
  EXPECT_EQ(got[0].network_service_endpoint().url(), "unix:///rewritten");
}

TEST(RegistryChain, ASinkErrorStopsTheStream) {
  auto chain = NseRegistryChain::Make({std::make_shared<FakeStore>()});
  ASSERT_TRUE(chain.ok());
  Context ctx;
  int sent = 0;
  FunctionSink<NetworkServiceEndpointResponse> sink([&](const auto&) {
    ++sent;
    return absl::CancelledError("receiver gone");
  });
  EXPECT_EQ((*chain)->Find(ctx, NetworkServiceEndpointQuery(), sink).code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(sent, 1);
}

TEST(RegistryChain, RegisterPassesTheChangedResourceDownAndTheTailReturnsIt) {
  auto store = std::make_shared<FakeStore>();
  auto inner = NseRegistryChain::Make({store});
  ASSERT_TRUE(inner.ok());
  auto chain = NseRegistryChain::Make({std::make_shared<UrlRewriter>(), *inner});
  ASSERT_TRUE(chain.ok());
  Context ctx;
  NetworkServiceEndpoint nse;
  nse.set_name("nse-1");
  auto out = (*chain)->Register(ctx, nse);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->url(), "tcp://10.0.0.1:5001");
  EXPECT_EQ(store->registered, std::vector<std::string>{"nse-1"});
}

TEST(RegistryChain, NullElementIsRejected) { EXPECT_FALSE(NsRegistryChain::Make({nullptr}).ok()); }

}  // namespace
}  // namespace nsmcert::sdk
