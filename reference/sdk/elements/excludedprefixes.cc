#include "reference/sdk/elements/excludedprefixes.h"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "reference/sdk/tools/cidr.h"

namespace nsmcert::sdk {
namespace {

// What identifies a version of the file without reading it.
struct FileVersion {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  int64_t mtime_ns = 0;
  off_t size = 0;
  friend bool operator==(const FileVersion&, const FileVersion&) = default;
};

FileVersion Stat(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  return {true, st.st_dev, st.st_ino,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec, st.st_size};
}

absl::StatusOr<std::vector<std::string>> ParsePrefixesYaml(const std::string& path,
                                                           const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", e.mark.line + 1, ": not valid YAML: ", e.msg));
  }
  std::vector<std::string> prefixes;
  if (!root || root.IsNull()) return prefixes;  // an empty file
  if (!root.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": expected a mapping"));
  YAML::Node list = root["prefixes"];
  if (!list || list.IsNull()) return prefixes;
  if (!list.IsSequence()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", list.Mark().line + 1, ": prefixes must be a list"));
  }
  for (const YAML::Node& item : list) {
    if (!item.IsScalar()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", item.Mark().line + 1, ": a prefix must be a string"));
    }
    auto cidr = tools::Cidr::Parse(item.Scalar());
    if (!cidr.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", item.Mark().line + 1, ": ", cidr.status().message()));
    }
    std::string canonical = cidr->Masked().ToString();
    if (std::find(prefixes.begin(), prefixes.end(), canonical) == prefixes.end()) {
      prefixes.push_back(std::move(canonical));
    }
  }
  return prefixes;
}

void AddAbsent(google::protobuf::RepeatedPtrField<std::string>& to,
               const std::vector<std::string>& prefixes) {
  for (const auto& prefix : prefixes) {
    if (std::find(to.begin(), to.end(), prefix) == to.end()) *to.Add() = prefix;
  }
}

}  // namespace

struct ExcludedPrefixesServer::State : std::enable_shared_from_this<ExcludedPrefixesServer::State> {
  State(Clock& clock, ExcludedPrefixesServerOptions options)
      : clock(clock), options(std::move(options)) {}

  void CheckFile() {
    FileVersion version = Stat(options.file);
    {
      std::lock_guard lock(mu);
      if (checked && version == seen) return;
      checked = true;
      seen = version;
    }
    absl::StatusOr<std::vector<std::string>> loaded = std::vector<std::string>();
    if (version.exists) {
      std::ifstream in(options.file);
      std::stringstream text;
      text << in.rdbuf();
      loaded = in ? ParsePrefixesYaml(options.file, text.str())
                  : absl::StatusOr<std::vector<std::string>>(
                        absl::UnavailableError(absl::StrCat(options.file, ": cannot be read")));
    }
    std::lock_guard lock(mu);
    if (loaded.ok()) {
      prefixes = *std::move(loaded);
      status = absl::OkStatus();
    } else {
      status = loaded.status();  // keep the prefixes that were in force
    }
  }

  void ArmPoll() {
    std::weak_ptr<State> weak = weak_from_this();
    std::lock_guard lock(mu);
    if (stopped) return;
    timer = clock.AfterFunc(options.poll_interval, [weak] {
      if (auto self = weak.lock()) {
        self->CheckFile();
        self->ArmPoll();
      }
    });
  }

  Clock& clock;
  const ExcludedPrefixesServerOptions options;
  mutable std::mutex mu;
  bool checked = false;
  FileVersion seen;
  std::vector<std::string> prefixes;
  absl::Status status;
  bool stopped = false;
  std::unique_ptr<Timer> timer;
};

ExcludedPrefixesServer::ExcludedPrefixesServer(Clock& clock, ExcludedPrefixesServerOptions options)
    : state_(std::make_shared<State>(clock, std::move(options))) {
  state_->CheckFile();
  state_->ArmPoll();
}

ExcludedPrefixesServer::~ExcludedPrefixesServer() {
  std::lock_guard lock(state_->mu);
  state_->stopped = true;
  if (state_->timer) state_->timer->Stop();
}

absl::StatusOr<connection::Connection> ExcludedPrefixesServer::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  std::vector<std::string> current = prefixes();
  if (!current.empty()) {
    AddAbsent(*request.mutable_connection()
                   ->mutable_context()
                   ->mutable_ip_context()
                   ->mutable_excluded_prefixes(),
              current);
  }
  return next.Request(ctx, request);
}

std::vector<std::string> ExcludedPrefixesServer::prefixes() const {
  std::lock_guard lock(state_->mu);
  return state_->prefixes;
}

absl::Status ExcludedPrefixesServer::load_status() const {
  std::lock_guard lock(state_->mu);
  return state_->status;
}

namespace {

// Every prefix a connection's IP context occupies.
std::vector<std::string> Occupied(const connectioncontext::IPContext& ip) {
  std::vector<std::string> out(ip.src_ip_addrs().begin(), ip.src_ip_addrs().end());
  out.insert(out.end(), ip.dst_ip_addrs().begin(), ip.dst_ip_addrs().end());
  for (const auto& route : ip.src_routes()) out.push_back(route.prefix());
  for (const auto& route : ip.dst_routes()) out.push_back(route.prefix());
  out.insert(out.end(), ip.excluded_prefixes().begin(), ip.excluded_prefixes().end());
  return out;
}

// The first src/dst address inside one of `excluded`, if any.
std::optional<std::string> FirstExcludedAddress(const connectioncontext::IPContext& ip,
                                                const std::vector<std::string>& excluded) {
  std::vector<tools::Cidr> cidrs;
  for (const auto& prefix : excluded) {
    if (auto cidr = tools::Cidr::Parse(prefix); cidr.ok()) cidrs.push_back(*cidr);
  }
  auto check = [&](const std::string& text) -> bool {
    auto address = tools::IpAddress::ParseWithOptionalPrefix(text);
    if (!address.ok()) return false;
    return std::any_of(cidrs.begin(), cidrs.end(),
                       [&](const tools::Cidr& c) { return c.Contains(*address); });
  };
  for (const auto& a : ip.src_ip_addrs()) {
    if (check(a)) return a;
  }
  for (const auto& a : ip.dst_ip_addrs()) {
    if (check(a)) return a;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<connection::Connection> ExcludedPrefixesClient::Request(
    Context& ctx, networkservice::NetworkServiceRequest& request, const NetworkServiceNext& next) {
  auto* ip = request.mutable_connection()->mutable_context()->mutable_ip_context();
  const google::protobuf::RepeatedPtrField<std::string> original = ip->excluded_prefixes();
  std::vector<std::string> requested(original.begin(), original.end());
  {
    std::lock_guard lock(mu_);
    for (const auto& prefix : excluded_) {
      if (std::find(requested.begin(), requested.end(), prefix) == requested.end()) {
        requested.push_back(prefix);
      }
    }
  }
  // A refresh must not exclude the connection's own addresses.
  std::vector<std::string> own(ip->src_ip_addrs().begin(), ip->src_ip_addrs().end());
  own.insert(own.end(), ip->dst_ip_addrs().begin(), ip->dst_ip_addrs().end());
  std::erase_if(requested, [&](const std::string& p) {
    return std::find(own.begin(), own.end(), p) != own.end();
  });
  ip->mutable_excluded_prefixes()->Assign(requested.begin(), requested.end());

  auto conn = next.Request(ctx, request);
  *request.mutable_connection()
       ->mutable_context()
       ->mutable_ip_context()
       ->mutable_excluded_prefixes() = original;
  if (!conn.ok()) return conn;

  const auto& got = conn->context().ip_context();
  if (auto hit = FirstExcludedAddress(got, requested); hit.has_value()) {
    (void)next.Close(ctx, *conn);
    return absl::FailedPreconditionError(absl::StrCat("excludedprefixes: address ", *hit,
                                                      " of the response is in an excluded prefix"));
  }
  std::lock_guard lock(mu_);
  for (auto& prefix : Occupied(got)) excluded_.insert(std::move(prefix));
  return conn;
}

absl::Status ExcludedPrefixesClient::Close(Context& ctx, connection::Connection& conn,
                                           const NetworkServiceNext& next) {
  {
    std::lock_guard lock(mu_);
    for (const auto& prefix : Occupied(conn.context().ip_context())) excluded_.erase(prefix);
  }
  return next.Close(ctx, conn);
}

std::set<std::string> ExcludedPrefixesClient::excluded() const {
  std::lock_guard lock(mu_);
  return excluded_;
}

}  // namespace nsmcert::sdk
