// Tiny fake elements for the element tests (test-only; not part of nsmcert_sdk_elements).
#pragma once

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "reference/sdk/chain/chain.h"
#include "reference/sdk/tools/jwt.h"

namespace nsmcert::sdk::testing {

// Records every Request and Close that reaches it and passes them on. Hooks may change the request
// or fail the call. Thread-safe.
class Recorder : public NetworkServiceElement {
 public:
  using RequestHook = std::function<absl::Status(Context&, networkservice::NetworkServiceRequest&)>;
  using CloseHook = std::function<absl::Status(Context&, connection::Connection&)>;

  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    RequestHook hook;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      hook = on_request;
    }
    if (hook) {
      absl::Status status = hook(ctx, request);
      if (!status.ok()) return status;
    }
    return next.Request(ctx, request);
  }
  absl::Status Close(Context& ctx, connection::Connection& conn,
                     const NetworkServiceNext& next) override {
    CloseHook hook;
    {
      std::lock_guard lock(mu_);
      closes_.push_back(conn);
      hook = on_close;
    }
    if (hook) {
      absl::Status status = hook(ctx, conn);
      if (!status.ok()) return status;
    }
    return next.Close(ctx, conn);
  }

  std::vector<networkservice::NetworkServiceRequest> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }
  std::vector<connection::Connection> closes() const {
    std::lock_guard lock(mu_);
    return closes_;
  }
  size_t request_count() const {
    std::lock_guard lock(mu_);
    return requests_.size();
  }
  size_t close_count() const {
    std::lock_guard lock(mu_);
    return closes_.size();
  }

  // Set before calls start.
  RequestHook on_request;
  CloseHook on_close;

 private:
  mutable std::mutex mu_;
  std::vector<networkservice::NetworkServiceRequest> requests_;
  std::vector<connection::Connection> closes_;
};

// Lets the rest of the chain succeed, then fails its own step and undoes the rest (the undo rule).
class FailsAfterNext : public NetworkServiceElement {
 public:
  absl::StatusOr<connection::Connection> Request(Context& ctx,
                                                 networkservice::NetworkServiceRequest& request,
                                                 const NetworkServiceNext& next) override {
    auto conn = next.Request(ctx, request);
    if (!conn.ok()) return conn;
    (void)next.Close(ctx, *conn);
    return absl::InternalError("own step failed after next");
  }
};

inline std::shared_ptr<NetworkServiceChain> MakeChain(
    std::vector<std::shared_ptr<NetworkServiceElement>> elements) {
  auto chain = NetworkServiceChain::Make(std::move(elements));
  return chain.ok() ? *chain : nullptr;
}

// A self-signed certificate (PEM) for `key`, standing in for a peer's TLS certificate.
inline std::string SelfSignedCertificatePem(const tools::EcKey& key) {
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key.native());
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("t"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key.native(), EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  std::string pem(data, static_cast<size_t>(size));
  BIO_free(bio);
  X509_free(cert);
  return pem;
}

}  // namespace nsmcert::sdk::testing
