#include "reference/sdk/grpc/monitor_client.h"

#include "absl/strings/str_cat.h"
#include "reference/sdk/grpc/status.h"

namespace nsmcert::sdk {

std::unique_ptr<MonitorConnectionGrpcStream> MonitorConnectionGrpcStream::Open(
    const std::shared_ptr<grpc::Channel>& channel,
    const connection::MonitorScopeSelector& selector) {
  std::unique_ptr<MonitorConnectionGrpcStream> stream(new MonitorConnectionGrpcStream());
  stream->stub_ = connection::MonitorConnection::NewStub(channel);
  stream->reader_ = stream->stub_->MonitorConnections(&stream->context_, selector);
  return stream;
}

MonitorConnectionGrpcStream::~MonitorConnectionGrpcStream() {
  Cancel();
  if (!finished_) {
    // Drain so that Finish() does not wait for messages nobody will read.
    connection::ConnectionEvent ignored;
    while (reader_->Read(&ignored)) {
    }
    (void)reader_->Finish();
  }
}

absl::StatusOr<connection::ConnectionEvent> MonitorConnectionGrpcStream::Next() {
  if (finished_) return final_;
  connection::ConnectionEvent event;
  if (reader_->Read(&event)) return event;
  grpc::Status status = reader_->Finish();
  finished_ = true;
  bool cancelled;
  {
    std::lock_guard lock(mu_);
    cancelled = cancelled_;
  }
  if (cancelled) {
    final_ = absl::CancelledError("monitor stream cancelled");
  } else if (status.ok()) {
    final_ = absl::UnavailableError("monitor stream ended by the server");
  } else if (status.error_code() == grpc::StatusCode::CANCELLED) {
    // Only our own Cancel() reads as CANCELLED; a server shutting down cancels calls too.
    final_ = absl::UnavailableError(
        absl::StrCat("monitor stream cancelled by the server: ", status.error_message()));
  } else {
    final_ = FromGrpcStatus(status);
  }
  return final_;
}

void MonitorConnectionGrpcStream::Cancel() {
  std::lock_guard lock(mu_);
  if (cancelled_) return;
  cancelled_ = true;
  context_.TryCancel();
}

ConnectionEventStreamOpener GrpcConnectionEventStreamOpener(std::shared_ptr<ChannelPool> channels) {
  return [channels](const std::string& url, const connection::MonitorScopeSelector& selector)
             -> absl::StatusOr<std::unique_ptr<ConnectionEventStream>> {
    auto channel = channels->Get(url);
    if (!channel.ok()) return channel.status();
    return MonitorConnectionGrpcStream::Open(*channel, selector);
  };
}

}  // namespace nsmcert::sdk
