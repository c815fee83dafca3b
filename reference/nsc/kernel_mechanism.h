// kernel mechanism (client side, NSC): asks for a kernel interface in the client's own network
// namespace (spec §4, "NSC").
//
// Guarantees on Request:
// - Every KERNEL entry of mechanism_preferences gets parameters[inodeURL] = this client's network
//   namespace (`inode://<dev>/<ino>`) and, when it names no interface, parameters[name] = a name
//   generated once per connection (tools::GenerateInterfaceName on the network service) and
//   reused on refreshes and heals.
// - When there is no KERNEL preference at all, one {cls LOCAL, type KERNEL} with those parameters
//   is appended.
// - A connection.mechanism of type KERNEL (a refresh) gets the same inodeURL.
// Close passes through.
//
// Chain placement: the NSC's client chain after begin and metadata (the generated name is kept in
// the connection's client-side metadata), before the connect element.
// Threading: thread-safe.
#pragma once

#include <functional>
#include <string>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::nsc {

class KernelMechanismClient final : public sdk::NetworkServiceElement {
 public:
  // `netns_url` is this process's network namespace as an inode URL
  // (kernel::NetNs::Current()->InodeUrl()). `generate_name` makes an interface name for a network
  // service (default: tools::GenerateInterfaceName).
  explicit KernelMechanismClient(std::string netns_url,
                                 std::function<std::string(const std::string&)> generate_name = {});

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;

 private:
  std::string netns_url_;
  std::function<std::string(const std::string&)> generate_name_;
};

}  // namespace nsmcert::nsc
