// excludedprefixes: keeps IP address allocation away from prefixes in use elsewhere (spec 6).
//
// ExcludedPrefixesServer (nsmgr) guarantees: every Request leaves with the prefixes of a YAML file
// (`prefixes: [10.96.0.0/12, ...]`) added to connection.context.ip_context.excluded_prefixes
// (those already present are not repeated). The file is re-read when it changes, found by polling
// its modification time, size and inode every `poll_interval` on the given clock. A missing file
// means no prefixes; a file that does not parse (bad YAML, a bad prefix) leaves the previous
// prefixes in force and is reported by load_status().
//
// ExcludedPrefixesClient (NSC) guarantees: a Request also excludes the addresses and route
// prefixes this client already holds on its other connections (not the connection's own, so a
// refresh keeps its addresses); a response whose src/dst addresses fall into those excluded
// prefixes is closed and the Request fails (FAILED_PRECONDITION naming the address). The request's
// own excluded_prefixes are put back as they were after the call. Close releases the connection's
// addresses from the set.
//
// Chain placement: server side before the elements that allocate addresses or forward the
// request; client side in the NSC's client chain before the connect element.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::sdk {

struct ExcludedPrefixesServerOptions {
  std::string file = "/var/lib/networkservicemesh/config/excluded_prefixes.yaml";
  absl::Duration poll_interval = absl::Seconds(1);
};

class ExcludedPrefixesServer final : public NetworkServiceElement {
 public:
  // Loads the file once now, then polls it on `clock`, which must outlive this element.
  ExcludedPrefixesServer(Clock& clock, ExcludedPrefixesServerOptions options = {});
  ~ExcludedPrefixesServer() override;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;

  // The prefixes in force (canonical network form, file order).
  std::vector<std::string> prefixes() const;
  // OK, or why the file's current content was not taken.
  absl::Status load_status() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

class ExcludedPrefixesClient final : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override;
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override;

  // The prefixes this client currently excludes for its next requests.
  std::set<std::string> excluded() const;

 private:
  mutable std::mutex mu_;
  std::set<std::string> excluded_;
};

}  // namespace nsmcert::sdk
