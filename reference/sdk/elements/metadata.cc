#include "reference/sdk/elements/metadata.h"

namespace nsmcert::sdk {
namespace {

bool Attached(const Context& ctx) {
  return ctx.connection_metadata(false) != nullptr || ctx.connection_metadata(true) != nullptr;
}

// Attaches a record's maps for the duration of a scope.
class ScopedAttach {
 public:
  ScopedAttach(Context& ctx, std::shared_ptr<ValueMap> server, std::shared_ptr<ValueMap> client)
      : ctx_(ctx) {
    ctx_.set_connection_metadata(false, std::move(server));
    ctx_.set_connection_metadata(true, std::move(client));
  }
  ~ScopedAttach() {
    ctx_.set_connection_metadata(false, nullptr);
    ctx_.set_connection_metadata(true, nullptr);
  }
  ScopedAttach(const ScopedAttach&) = delete;
  ScopedAttach& operator=(const ScopedAttach&) = delete;

 private:
  Context& ctx_;
};

}  // namespace

absl::StatusOr<connection::Connection> ConnectionMetadata::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  if (Attached(ctx)) return next.Request(ctx, request);
  const std::string id = request.connection().id();
  std::shared_ptr<Record> record;
  bool existed;
  {
    std::lock_guard lock(mu_);
    auto [it, inserted] = records_.try_emplace(id);
    if (inserted) it->second = std::make_shared<Record>();
    record = it->second;
    existed = !inserted;
  }
  absl::StatusOr<connection::Connection> conn;
  {
    ScopedAttach attach(ctx, record->server, record->client);
    conn = next.Request(ctx, request);
  }
  if (!conn.ok() && !existed) {
    std::lock_guard lock(mu_);
    auto it = records_.find(id);
    if (it != records_.end() && it->second == record) records_.erase(it);
  }
  return conn;
}

absl::Status ConnectionMetadata::Close(Context& ctx, connection::Connection& conn,
                                       const NetworkServiceNext& next) {
  if (Attached(ctx)) return next.Close(ctx, conn);
  std::shared_ptr<Record> record;
  {
    std::lock_guard lock(mu_);
    auto it = records_.find(conn.id());
    if (it != records_.end()) {
      record = it->second;
      records_.erase(it);
    }
  }
  // Elements after this one still get maps (empty ones for an unknown id) so they never have to
  // handle a missing map.
  if (record == nullptr) record = std::make_shared<Record>();
  ScopedAttach attach(ctx, record->server, record->client);
  return next.Close(ctx, conn);
}

size_t ConnectionMetadata::size() const {
  std::lock_guard lock(mu_);
  return records_.size();
}

}  // namespace nsmcert::sdk
