// gRPC adapter: serves a NetworkService chain as `/networkservice.NetworkService/{Request,Close}`.
#pragma once

#include <memory>

#include "networkservice.grpc.pb.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/chain/clock.h"

namespace nsmcert::sdk {

class NetworkServiceGrpcServer final : public networkservice::NetworkService::Service {
 public:
  // `chain` runs as a whole (its tail ends the call). `clock` must outlive the server.
  explicit NetworkServiceGrpcServer(std::shared_ptr<NetworkServiceElement> chain,
                                    Clock& clock = Clock::Real());

  grpc::Status Request(grpc::ServerContext* server, const networkservice::NetworkServiceRequest* in,
                       connection::Connection* out) override;
  grpc::Status Close(grpc::ServerContext* server, const connection::Connection* in,
                     google::protobuf::Empty* out) override;

 private:
  std::shared_ptr<NetworkServiceElement> chain_;
  Clock& clock_;
};

}  // namespace nsmcert::sdk
