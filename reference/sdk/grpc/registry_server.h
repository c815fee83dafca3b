// gRPC adapters: serve registry chains as `/registry.NetworkServiceEndpointRegistry/*` and
// `/registry.NetworkServiceRegistry/*`.
//
// Each call gets a fresh Context on the server's clock, filled from the gRPC call (metadata,
// deadline, and a cancel probe that notices a client that went away). The chain runs as a whole;
// its tail ends the call. Headers the chain puts into Context::response_headers() (the registry
// `path`, say) go out as the call's initial metadata: for Register/Unregister once the chain
// returned, for Find before the first response (or at the end when nothing was sent).
//
// Find is server-streaming: every response the chain sends to its sink is written to the stream.
// A non-watch Find ends when the chain returns; a watch Find runs until the chain returns, which a
// store does when the client cancels (the cancel probe) or the deadline passes. A failed write
// (client gone) is reported to the chain as CANCELLED from the sink.
//
// Threading: gRPC calls these methods concurrently; the chain must be thread-safe (chain.h).
#pragma once

#include <memory>

#include "reference/sdk/chain/clock.h"
#include "reference/sdk/chain/registry_chain.h"
#include "registry.grpc.pb.h"

namespace nsmcert::sdk {

class NseRegistryGrpcServer final : public registry::NetworkServiceEndpointRegistry::Service {
 public:
  // `clock` must outlive the server.
  explicit NseRegistryGrpcServer(std::shared_ptr<NseRegistryElement> chain,
                                 Clock& clock = Clock::Real());

  grpc::Status Register(grpc::ServerContext* server, const registry::NetworkServiceEndpoint* in,
                        registry::NetworkServiceEndpoint* out) override;
  grpc::Status Find(grpc::ServerContext* server, const registry::NetworkServiceEndpointQuery* query,
                    grpc::ServerWriter<registry::NetworkServiceEndpointResponse>* writer) override;
  grpc::Status Unregister(grpc::ServerContext* server, const registry::NetworkServiceEndpoint* in,
                          google::protobuf::Empty* out) override;

 private:
  std::shared_ptr<NseRegistryElement> chain_;
  Clock& clock_;
};

class NsRegistryGrpcServer final : public registry::NetworkServiceRegistry::Service {
 public:
  // `clock` must outlive the server.
  explicit NsRegistryGrpcServer(std::shared_ptr<NsRegistryElement> chain,
                                Clock& clock = Clock::Real());

  grpc::Status Register(grpc::ServerContext* server, const registry::NetworkService* in,
                        registry::NetworkService* out) override;
  grpc::Status Find(grpc::ServerContext* server, const registry::NetworkServiceQuery* query,
                    grpc::ServerWriter<registry::NetworkServiceResponse>* writer) override;
  grpc::Status Unregister(grpc::ServerContext* server, const registry::NetworkService* in,
                          google::protobuf::Empty* out) override;

 private:
  std::shared_ptr<NsRegistryElement> chain_;
  Clock& clock_;
};

}  // namespace nsmcert::sdk
