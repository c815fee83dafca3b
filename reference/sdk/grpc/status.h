// Conversion between absl::Status (used everywhere in the chains) and grpc::Status (used only in
// the gRPC adapters). The canonical codes share their numbering.
#pragma once

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace nsmcert::sdk {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace nsmcert::sdk
