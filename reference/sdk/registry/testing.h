// Test helpers for registry elements: a sink that collects responses from another thread and
// lets a test wait for them, and small builders. Only for tests.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "nsmcert/api/constants.h"
#include "reference/sdk/chain/registry_chain.h"
#include "reference/sdk/tools/go_time.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::reg::testing {

template <typename Response>
class CollectingSink : public FindSink<Response> {
 public:
  absl::Status Send(const Response& response) override {
    std::lock_guard lock(mu_);
    received_.push_back(response);
    cv_.notify_all();
    return absl::OkStatus();
  }
  // Waits (real time, at most `timeout`) until `n` responses arrived; returns whether they did.
  bool WaitFor(size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return received_.size() >= n; });
  }
  std::vector<Response> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Response> received_;
};

using NseCollectingSink = CollectingSink<registry::NetworkServiceEndpointResponse>;
using NsCollectingSink = CollectingSink<registry::NetworkServiceResponse>;

inline registry::NetworkServiceEndpoint MakeNse(const std::string& name,
                                                std::vector<std::string> services = {},
                                                const std::string& url = "") {
  registry::NetworkServiceEndpoint nse;
  nse.set_name(name);
  for (auto& s : services) nse.add_network_service_names(s);
  nse.set_url(url);
  return nse;
}

// "name" or "-name" (deleted) for each response, for compact event-order assertions.
inline std::vector<std::string> EventNames(
    const std::vector<registry::NetworkServiceEndpointResponse>& responses) {
  std::vector<std::string> names;
  for (const auto& r : responses) {
    names.push_back((r.deleted() ? "-" : "") + r.network_service_endpoint().name());
  }
  return names;
}

// An HS256 token with `sub` = `spiffe_id` and `exp` = `expires`, as a caller presents it.
inline std::string TokenFor(const std::string& spiffe_id, absl::Time expires) {
  tools::JwtClaims claims;
  claims.subject = spiffe_id;
  claims.expires_at = expires;
  return *tools::SignJwtHs256(claims, "test-secret");
}

// Adds the per-RPC token metadata a caller with identity `spiffe_id` sends.
inline void AddPeerToken(Context& ctx, const std::string& spiffe_id, absl::Time expires) {
  ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientToken),
                                          TokenFor(spiffe_id, expires));
  ctx.mutable_incoming_metadata().emplace(std::string(api::metadata::kClientTokenExpires),
                                          tools::FormatRfc3339Nano(expires));
}

// A signer for this hop's own tokens, on the context's clock.
inline std::shared_ptr<tools::TokenSigner> SignerFor(const std::string& spiffe_id, Clock& clock,
                                                     absl::Duration lifetime = absl::Minutes(10)) {
  return std::make_shared<tools::Hs256TokenSigner>(*tools::SpiffeId::Parse(spiffe_id), "hop-secret",
                                                   lifetime, [&clock] { return clock.Now(); });
}

}  // namespace nsmcert::sdk::reg::testing
