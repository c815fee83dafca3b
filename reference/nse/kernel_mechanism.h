// kernel mechanism (endpoint side): the NSE's half of a KERNEL connection (spec §4, "NSE
// (kernel)"). The forwarder creates the endpoint's interface; this element tells it where and
// under which name.
//
// Guarantees on Request, when connection.mechanism is KERNEL (the `mechanisms` element chose it):
// - parameters[inodeURL] is this endpoint's network namespace (`inode://<dev>/<ino>`), replacing
//   whatever the forwarder sent;
// - parameters[name] is kept when the request names a valid interface (a refresh keeps the name
//   it was given), otherwise generated from the network service name (tools::
//   GenerateInterfaceName); a name that breaks Linux's rules is INVALID_ARGUMENT naming it.
// Other mechanisms and Close pass through.
//
// Chain placement: as the KERNEL handler of the endpoint's `mechanisms` element.
// Threading: thread-safe (immutable after construction).
#pragma once

#include <functional>
#include <string>

#include "reference/sdk/chain/chain.h"

namespace nsmcert::nse {

class KernelMechanismServer final : public sdk::NetworkServiceElement {
 public:
  // `netns_url` is this process's network namespace as an inode URL
  // (kernel::NetNs::Current()->InodeUrl()). `generate_name` makes interface names for a network
  // service (default: tools::GenerateInterfaceName).
  explicit KernelMechanismServer(std::string netns_url,
                                 std::function<std::string(const std::string&)> generate_name = {});

  absl::StatusOr<connection::Connection> Request(sdk::Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const sdk::NetworkServiceNext& next) override;

 private:
  std::string netns_url_;
  std::function<std::string(const std::string&)> generate_name_;
};

}  // namespace nsmcert::nse
