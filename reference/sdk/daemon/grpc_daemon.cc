#include "reference/sdk/daemon/grpc_daemon.h"

#include <arpa/inet.h>
#include <grpcpp/health_check_service_interface.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "reference/sdk/tools/url.h"

namespace nsmcert::sdk::daemon {
namespace {

bool IsWildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::";
}

}  // namespace

std::string FirstNonLoopbackAddress() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string v4, v6;
  for (ifaddrs* a = list; a != nullptr; a = a->ifa_next) {
    if (a->ifa_addr == nullptr || (a->ifa_flags & IFF_LOOPBACK) || !(a->ifa_flags & IFF_UP)) {
      continue;
    }
    char buf[INET6_ADDRSTRLEN] = {};
    if (a->ifa_addr->sa_family == AF_INET && v4.empty()) {
      inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
      v4 = buf;
    } else if (a->ifa_addr->sa_family == AF_INET6 && v6.empty()) {
      auto* in6 = &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(in6) || IN6_IS_ADDR_LOOPBACK(in6)) continue;
      inet_ntop(AF_INET6, in6, buf, sizeof buf);
      v6 = buf;
    }
  }
  freeifaddrs(list);
  return !v4.empty() ? v4 : v6;
}

absl::StatusOr<std::unique_ptr<GrpcDaemon>> GrpcDaemon::Create(
    std::vector<std::string> listen_urls) {
  if (listen_urls.empty()) return absl::InvalidArgumentError("listen URLs: none given");
  for (const std::string& url : listen_urls) {
    auto parsed = tools::ParseNsmUrl(url);
    if (!parsed.ok()) return parsed.status();
    if (parsed->scheme == tools::NsmUrlScheme::kInode) {
      return absl::InvalidArgumentError(
          absl::StrCat("listen URL \"", url, "\": cannot listen on an inode URL"));
    }
  }
  return std::unique_ptr<GrpcDaemon>(new GrpcDaemon(std::move(listen_urls)));
}

GrpcDaemon::~GrpcDaemon() { Shutdown(absl::ZeroDuration()); }

absl::Status GrpcDaemon::Start() {
  grpc::EnableDefaultHealthCheckService(true);
  ports_.assign(urls_.size(), 0);
  for (size_t i = 0; i < urls_.size(); ++i) {
    auto url = tools::ParseNsmUrl(urls_[i]);
    if (!url.ok()) return url.status();
    if (url->scheme == tools::NsmUrlScheme::kUnix) {
      std::error_code ec;
      std::filesystem::create_directories(std::filesystem::path(url->path).parent_path(), ec);
      std::filesystem::remove(url->path, ec);  // a stale socket of a previous run
      socket_files_.push_back(url->path);
    }
    auto address = tools::GrpcListenAddress(*url);
    if (!address.ok()) return address.status();
    builder_.AddListeningPort(*address, grpc::InsecureServerCredentials(),
                              url->scheme == tools::NsmUrlScheme::kTcp ? &ports_[i] : nullptr);
  }
  server_ = builder_.BuildAndStart();
  if (server_ == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", absl::StrJoin(urls_, ", ")));
  }
  for (size_t i = 0; i < urls_.size(); ++i) {
    auto url = *tools::ParseNsmUrl(urls_[i]);
    if (url.scheme == tools::NsmUrlScheme::kTcp) {
      if (ports_[i] == 0) {
        return absl::UnavailableError(absl::StrCat("cannot listen on ", urls_[i]));
      }
      url.port = static_cast<uint16_t>(ports_[i]);
    }
    bound_urls_.push_back(tools::FormatNsmUrl(url));
  }
  for (const std::string& u : bound_urls_) std::cout << "listening on " << u << std::endl;
  if (const char* report = std::getenv("NSMCERT_LISTEN_REPORT"); report != nullptr && *report) {
    std::string tmp = absl::StrCat(report, ".tmp");
    {
      std::ofstream out(tmp);
      for (const std::string& u : bound_urls_) out << u << "\n";
    }
    std::error_code ec;
    std::filesystem::rename(tmp, report, ec);
    if (ec) return absl::InternalError(absl::StrCat("listen report ", report, ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::string GrpcDaemon::PublicUrl() const {
  for (const std::string& u : bound_urls_) {
    auto url = tools::ParseNsmUrl(u);
    if (!url.ok() || url->scheme != tools::NsmUrlScheme::kTcp) continue;
    if (IsWildcard(url->host)) url->host = FirstNonLoopbackAddress();
    if (url->host.empty()) url->host = "127.0.0.1";
    return tools::FormatNsmUrl(*url);
  }
  return bound_urls_.empty() ? (urls_.empty() ? "" : urls_.front()) : bound_urls_.front();
}

void GrpcDaemon::SetServing(const std::vector<std::string_view>& services, bool serving) {
  if (server_ == nullptr) return;
  grpc::HealthCheckServiceInterface* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);
  for (std::string_view s : services) health->SetServingStatus(std::string(s), serving);
}

void GrpcDaemon::Shutdown(absl::Duration grace) {
  if (server_ != nullptr) {
    if (auto* health = server_->GetHealthCheckService()) health->Shutdown();
    server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoNanoseconds(grace));
    server_->Wait();
    server_.reset();
  }
  for (const std::string& f : socket_files_) {
    std::error_code ec;
    std::filesystem::remove(f, ec);
  }
  socket_files_.clear();
}

}  // namespace nsmcert::sdk::daemon
