#include "reference/nsmgr/local_bypass.h"

#include "absl/strings/str_cat.h"

namespace nsmcert::nsmgr {

LocalBypass::LocalBypass(std::shared_ptr<const OwnUrl> own_url) : own_url_(std::move(own_url)) {}

absl::StatusOr<registry::NetworkServiceEndpoint> LocalBypass::Register(
    sdk::Context& ctx, registry::NetworkServiceEndpoint& nse, const sdk::NseRegistryNext& next) {
  const std::string real_url = nse.url();
  if (real_url.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "network_service_endpoint.url: required to register \"", nse.name(), "\" with the nsmgr"));
  }
  const std::string own_url = own_url_->Get();
  if (own_url.empty()) {
    return absl::UnavailableError("nsmgr: public URL not known yet; retry the registration");
  }

  // Remember before passing on: a Find racing the registration must already map the name back.
  std::optional<std::string> previous;
  {
    std::lock_guard lock(mu_);
    if (auto it = urls_.find(nse.name()); it != urls_.end()) previous = it->second;
    urls_[nse.name()] = real_url;
  }
  nse.set_url(own_url);
  auto registered = next.Register(ctx, nse);
  nse.set_url(real_url);
  if (!registered.ok()) {
    std::lock_guard lock(mu_);
    if (previous) {
      urls_[nse.name()] = *previous;
    } else {
      urls_.erase(nse.name());
    }
    return registered;
  }
  registered->set_url(real_url);
  return registered;
}

absl::Status LocalBypass::Find(sdk::Context& ctx,
                               const registry::NetworkServiceEndpointQuery& query,
                               sdk::NseFindSink& sink, const sdk::NseRegistryNext& next) {
  const std::string own_url = own_url_->Get();
  sdk::FunctionSink<registry::NetworkServiceEndpointResponse> rewrite(
      [&](const registry::NetworkServiceEndpointResponse& response) -> absl::Status {
        const std::string& name = response.network_service_endpoint().name();
        std::optional<std::string> local = LocalUrl(name);
        if (local) {
          registry::NetworkServiceEndpointResponse mapped = response;
          mapped.mutable_network_service_endpoint()->set_url(*local);
          return sink.Send(mapped);
        }
        // Registered through this nsmgr's URL, yet unknown here: left over from an earlier run.
        // It cannot be reached, so it is hidden until it expires; its deletion still goes out.
        if (!own_url.empty() && response.network_service_endpoint().url() == own_url &&
            !response.deleted()) {
          return absl::OkStatus();
        }
        return sink.Send(response);
      });
  return next.Find(ctx, query, rewrite);
}

absl::Status LocalBypass::Unregister(sdk::Context& ctx, registry::NetworkServiceEndpoint& nse,
                                     const sdk::NseRegistryNext& next) {
  if (!LocalUrl(nse.name())) return absl::OkStatus();
  const std::string real_url = nse.url();
  nse.set_url(own_url_->Get());
  absl::Status status = next.Unregister(ctx, nse);
  nse.set_url(real_url);
  if (status.ok()) {
    std::lock_guard lock(mu_);
    urls_.erase(nse.name());
  }
  return status;
}

std::optional<std::string> LocalBypass::LocalUrl(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = urls_.find(name);
  if (it == urls_.end()) return std::nullopt;
  return it->second;
}

size_t LocalBypass::size() const {
  std::lock_guard lock(mu_);
  return urls_.size();
}

}  // namespace nsmcert::nsmgr
