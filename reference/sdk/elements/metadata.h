// metadata: per-connection state for the elements after it.
//
// Guarantees: while a Request or Close runs past this element, ctx.connection_metadata(false)
// (server side) and ctx.connection_metadata(true) (client side) are ValueMaps that belong to the
// connection id: the same maps on every Request for that id (refreshes, events fired through
// begin), separate maps for server-side and client-side elements. A failed first Request drops
// them; a Close hands them to the elements after it one last time and then drops them. The
// caller's context is restored on return.
//
// A metadata element that finds maps already attached (a client chain nested in a server chain)
// passes calls through, so both sides of one hop share one record per connection.
//
// Chain placement: after updatepath (the connection id must be final) and begin (calls for one id
// are serialised); before every element that keeps per-connection state in the context.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

class ConnectionMetadata final : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // Number of connection ids with metadata.
  size_t size() const;

 private:
  struct Record {
    std::shared_ptr<ValueMap> server = std::make_shared<ValueMap>();
    std::shared_ptr<ValueMap> client = std::make_shared<ValueMap>();
  };

  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Record>> records_;
};

}  // namespace nsmcert::sdk
