#include "reference/sdk/tools/mechanism_params.h"

#include <memory>
#include <optional>

#include "absl/random/random.h"
#include "nsmcert/api/constants.h"
#include "reference/sdk/tools/internal/strings.h"
#include "reference/sdk/tools/url.h"

namespace nsmcert::sdk::tools {
namespace {

using internal::Cat;

constexpr uint32_t kVniMask = 0x00FFFFFF;
constexpr int kMaxVniAttempts = 4096;
constexpr size_t kInterfacePrefixLength = 10;

std::string Param(const connection::Mechanism& mechanism, std::string_view key) {
  auto it = mechanism.parameters().find(std::string(key));
  return it == mechanism.parameters().end() ? std::string() : it->second;
}

bool HasParam(const connection::Mechanism& mechanism, std::string_view key) {
  return mechanism.parameters().contains(std::string(key));
}

std::optional<uint64_t> ParseBoundedDecimal(std::string_view text, uint64_t max) {
  if (text.empty() || text.size() > 10) return std::nullopt;
  uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

bool IsNameSafe(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

}  // namespace

absl::StatusOr<uint32_t> ParseVni(std::string_view text) {
  std::optional<uint64_t> vni = ParseBoundedDecimal(text, kVniMask);
  if (!vni.has_value() || *vni == 0) {
    return absl::InvalidArgumentError(
        Cat("VXLAN vni \"", text, "\" is not a decimal number in 1..16777215"));
  }
  return static_cast<uint32_t>(*vni);
}

bool VniMustBeEven(const connection::Mechanism& mechanism) {
  const std::string src_text = HasParam(mechanism, api::param::kOrigSrcIp)
                                   ? Param(mechanism, api::param::kOrigSrcIp)
                                   : Param(mechanism, api::param::kSrcIp);
  absl::StatusOr<IpAddress> src = IpAddress::Parse(src_text);
  if (!src.ok()) return true;
  const std::string dst_text = HasParam(mechanism, api::param::kOrigDstIp)
                                   ? Param(mechanism, api::param::kOrigDstIp)
                                   : Param(mechanism, api::param::kDstIp);
  absl::StatusOr<IpAddress> dst = IpAddress::Parse(dst_text);
  if (!dst.ok()) return false;
  return src->Bytes16() <= dst->Bytes16();
}

VniAllocator::VniAllocator(std::function<uint32_t()> random) : random_(std::move(random)) {
  if (!random_) {
    random_ = [generator = std::make_shared<absl::BitGen>(), mu = std::make_shared<absl::Mutex>()] {
      absl::MutexLock lock(mu.get());
      return absl::Uniform<uint32_t>(*generator);
    };
  }
}

absl::StatusOr<uint32_t> VniAllocator::Assign(connection::Mechanism& mechanism) {
  const std::string src_text = Param(mechanism, api::param::kSrcIp);
  absl::StatusOr<IpAddress> src = IpAddress::Parse(src_text);
  if (!src.ok()) {
    return absl::InvalidArgumentError(
        Cat("VXLAN mechanism parameter src_ip: ", src.status().message()));
  }
  const std::string src_key = src->ToString();

  if (absl::StatusOr<uint32_t> existing = ParseVni(Param(mechanism, api::param::kVni));
      existing.ok()) {
    absl::MutexLock lock(&mu_);
    used_.insert({src_key, *existing});
    return *existing;
  }

  absl::StatusOr<IpAddress> dst = IpAddress::Parse(Param(mechanism, api::param::kDstIp));
  if (!dst.ok()) {
    return absl::InvalidArgumentError(
        Cat("VXLAN mechanism parameter dst_ip: ", dst.status().message()));
  }
  const bool even = VniMustBeEven(mechanism);
  absl::MutexLock lock(&mu_);
  for (int attempt = 0; attempt < kMaxVniAttempts; ++attempt) {
    const uint32_t r = random_();
    const uint32_t vni = (even ? 2 * r : 2 * r + 1) & kVniMask;
    if (vni == 0) continue;  // 0 is not a usable VNI
    if (used_.insert({src_key, vni}).second) {
      (*mechanism.mutable_parameters())[std::string(api::param::kVni)] = std::to_string(vni);
      return vni;
    }
  }
  return absl::ResourceExhaustedError(Cat("no free VXLAN vni for src_ip ", src_key));
}

void VniAllocator::Release(const connection::Mechanism& mechanism) {
  absl::StatusOr<IpAddress> src = IpAddress::Parse(Param(mechanism, api::param::kSrcIp));
  absl::StatusOr<uint32_t> vni = ParseVni(Param(mechanism, api::param::kVni));
  if (!src.ok() || !vni.ok()) return;
  absl::MutexLock lock(&mu_);
  used_.erase({src->ToString(), *vni});
}

size_t VniAllocator::size() const {
  absl::MutexLock lock(&mu_);
  return used_.size();
}

uint32_t VxlanOverhead(IpFamily underlay) {
  return underlay == IpFamily::kV4 ? api::defaults::kVxlanOverheadV4
                                   : api::defaults::kVxlanOverheadV6;
}

absl::StatusOr<uint32_t> TunnelMtu(uint32_t underlay_mtu, uint32_t overhead) {
  if (underlay_mtu < overhead || underlay_mtu - overhead < kMinMtu) {
    return absl::InvalidArgumentError(Cat("underlay MTU ", underlay_mtu, " minus overhead ",
                                          overhead, " leaves less than ", kMinMtu));
  }
  return underlay_mtu - overhead;
}

absl::StatusOr<uint32_t> ParseMtu(std::string_view text) {
  std::optional<uint64_t> mtu = ParseBoundedDecimal(text, kMaxMtu);
  if (!mtu.has_value() || *mtu < kMinMtu) {
    return absl::InvalidArgumentError(
        Cat("MTU \"", text, "\" is not a decimal number in ", kMinMtu, "..", kMaxMtu));
  }
  return static_cast<uint32_t>(*mtu);
}

uint32_t MinMtu(uint32_t a, uint32_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return a < b ? a : b;
}

absl::Status ValidateInterfaceName(std::string_view name) {
  const auto invalid = [&name](std::string_view why) {
    return absl::InvalidArgumentError(Cat("interface name \"", name, "\" ", why));
  };
  if (name.empty()) return absl::InvalidArgumentError("interface name is empty");
  if (name.size() > api::defaults::kMaxInterfaceNameLength) {
    return invalid(
        Cat("has ", name.size(), " bytes, more than ", api::defaults::kMaxInterfaceNameLength));
  }
  if (name == "." || name == "..") return invalid("is reserved");
  for (char c : name) {
    if (c == '/' || c == ':' || c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\v' ||
        c == '\f' || c == '\r') {
      return invalid("contains '/', ':', NUL or whitespace");
    }
  }
  return absl::OkStatus();
}

std::string GenerateInterfaceName(std::string_view network_service) {
  std::string name;
  for (char c : network_service.substr(0, kInterfacePrefixLength)) {
    name.push_back(IsNameSafe(c) ? c : '-');
  }
  if (name.empty()) name = "nsm";
  name.push_back('-');
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local absl::BitGen generator;
  while (name.size() < api::defaults::kMaxInterfaceNameLength) {
    name.push_back(kAlphabet[absl::Uniform<size_t>(generator, 0, sizeof(kAlphabet) - 1)]);
  }
  return name;
}

connection::Mechanism NsUrl::ToMechanism() const {
  connection::Mechanism mechanism;
  mechanism.set_cls(std::string(api::cls::kLocal));
  mechanism.set_type(mechanism_type);
  if (!interface_name.empty()) {
    (*mechanism.mutable_parameters())[std::string(api::param::kName)] = interface_name;
  }
  return mechanism;
}

absl::StatusOr<NsUrl> ParseNsUrl(std::string_view text) {
  absl::StatusOr<UrlParts> parts = SplitUrl(text);
  if (!parts.ok()) {
    return absl::InvalidArgumentError(Cat("NSURL: ", parts.status().message()));
  }
  NsUrl url;
  for (char c : parts->scheme) {
    url.mechanism_type.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
  }
  url.network_service = parts->user.empty() ? parts->host : Cat(parts->user, "@", parts->host);
  if (parts->host.empty()) {
    return absl::InvalidArgumentError(
        Cat("NSURL \"", text, "\" names no network service (expected mechanism://service/...)"));
  }
  if (const size_t slash = parts->path.rfind('/'); slash != std::string::npos) {
    url.interface_name = parts->path.substr(slash + 1);
  }
  if (!url.interface_name.empty() && url.mechanism_type == api::mechanism::kKernel) {
    if (absl::Status s = ValidateInterfaceName(url.interface_name); !s.ok()) {
      return absl::InvalidArgumentError(Cat("NSURL \"", text, "\": ", s.message()));
    }
  }
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
      ParseQuery(parts->raw_query);
  if (!query.ok()) {
    return absl::InvalidArgumentError(Cat("NSURL \"", text, "\": ", query.status().message()));
  }
  for (auto& [key, value] : *query) {
    auto [it, inserted] = url.labels.emplace(key, value);
    if (!inserted) internal::Append(&it->second, ",", value);
  }
  return url;
}

}  // namespace nsmcert::sdk::tools
