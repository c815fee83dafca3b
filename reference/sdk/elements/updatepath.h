// updatepath: this hop's place in connection.path (spec 5.1), on Request and Close.
//
// Guarantees: the elements after it see the path with this hop's segment at path.index and
// connection.id = that segment's id (a new UUID for a new hop; stable across refreshes while the
// same names occupy the same positions). On the way back the caller's view is restored: the
// returned connection carries the whole path, with path.index and connection.id of the caller's
// segment. A request that breaks the rules (connection id not at the index, index past the end) is
// refused with INVALID_ARGUMENT before anything else runs. If the rest of the chain returns a path
// too short to restore the caller's view, what it built is closed and the Request fails (INTERNAL).
//
// Both sides use it: a server hop (its caller's segment is at the index) and a client chain (an
// NSC starts the path; a hop's own client finds its own segment at the index and keeps it).
//
// Chain placement: first, before begin (which serialises by the id this element fixes).
#pragma once

#include <string>

#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/path.h"

namespace nsmcert::sdk {

class UpdatePath final : public NetworkServiceElement {
 public:
  // `name` is this hop's name (NSM_NAME). `new_id` makes segment ids (default: UUIDv4).
  explicit UpdatePath(std::string name, tools::IdGenerator new_id = {});

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

 private:
  std::string name_;
  tools::IdGenerator new_id_;
};

}  // namespace nsmcert::sdk
