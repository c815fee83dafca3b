#include "reference/forwarder/mechanism_checks.h"

#include <charconv>

#include "absl/strings/str_cat.h"
#include "nsmcert/api/constants.h"
#include "reference/kernel/netns.h"
#include "reference/sdk/tools/cidr.h"
#include "reference/sdk/tools/mechanism_params.h"

namespace nsmcert::forwarder {
namespace {

namespace param = api::param;

std::string Quoted(const std::string& value) { return absl::StrCat("\"", value, "\""); }

}  // namespace

std::string Param(const connection::Mechanism& mechanism, std::string_view key) {
  auto it = mechanism.parameters().find(std::string(key));
  return it == mechanism.parameters().end() ? std::string() : it->second;
}

bool HasParam(const connection::Mechanism& mechanism, std::string_view key) {
  return mechanism.parameters().contains(std::string(key));
}

void SetParam(connection::Mechanism& mechanism, std::string_view key, std::string value) {
  (*mechanism.mutable_parameters())[std::string(key)] = std::move(value);
}

absl::Status ParamError(const connection::Mechanism& mechanism, std::string_view key,
                        std::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat(mechanism.type(), " mechanism parameter ",
                                                 std::string(key), ": ", std::string(problem)));
}

absl::Status CheckInterfaceNameParam(const connection::Mechanism& mechanism) {
  const std::string name = Param(mechanism, param::kName);
  if (name.empty()) return ParamError(mechanism, param::kName, "missing");
  absl::Status valid = sdk::tools::ValidateInterfaceName(name);
  if (!valid.ok()) return ParamError(mechanism, param::kName, std::string(valid.message()));
  return absl::OkStatus();
}

absl::Status CheckNetNsParam(const connection::Mechanism& mechanism) {
  const std::string url = Param(mechanism, param::kInodeUrl);
  if (url.empty()) {
    return ParamError(mechanism, param::kInodeUrl,
                      "missing (the namespace the interface goes into)");
  }
  // Only references that name a namespace of another process are acceptable from a peer: a named
  // namespace or "" would mean one of the forwarder's own choosing.
  if (!url.starts_with("inode://") && !url.starts_with("file://")) {
    return ParamError(mechanism, param::kInodeUrl,
                      absl::StrCat(Quoted(url), " is neither inode://<dev>/<ino> nor file://"));
  }
  absl::Status valid = kernel::ValidateNetNsRef(url);
  if (!valid.ok()) return ParamError(mechanism, param::kInodeUrl, std::string(valid.message()));
  return absl::OkStatus();
}

absl::StatusOr<std::string> IpParam(const connection::Mechanism& mechanism, std::string_view key) {
  const std::string text = Param(mechanism, key);
  if (text.empty()) return ParamError(mechanism, key, "missing");
  auto ip = sdk::tools::IpAddress::Parse(text);
  if (!ip.ok()) {
    return ParamError(mechanism, key, absl::StrCat(Quoted(text), " is not an IP address"));
  }
  return ip->ToString();
}

absl::StatusOr<std::uint16_t> PortParam(const connection::Mechanism& mechanism,
                                        std::string_view key, std::uint16_t fallback) {
  if (!HasParam(mechanism, key)) return fallback;
  const std::string text = Param(mechanism, key);
  unsigned value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    return ParamError(mechanism, key, absl::StrCat(Quoted(text), " is not a port in 1..65535"));
  }
  return static_cast<std::uint16_t>(value);
}

absl::StatusOr<std::uint32_t> MtuParam(const connection::Mechanism& mechanism) {
  if (!HasParam(mechanism, param::kMtu)) return 0u;
  auto mtu = sdk::tools::ParseMtu(Param(mechanism, param::kMtu));
  if (!mtu.ok()) return ParamError(mechanism, param::kMtu, std::string(mtu.status().message()));
  return *mtu;
}

absl::StatusOr<std::uint32_t> VniParam(const connection::Mechanism& mechanism) {
  const std::string text = Param(mechanism, param::kVni);
  if (text.empty()) return ParamError(mechanism, param::kVni, "missing");
  auto vni = sdk::tools::ParseVni(text);
  if (!vni.ok()) return ParamError(mechanism, param::kVni, std::string(vni.status().message()));
  const bool even = sdk::tools::VniMustBeEven(mechanism);
  if ((*vni % 2 == 0) != even) {
    return ParamError(
        mechanism, param::kVni,
        absl::StrCat(*vni, " must be ", even ? "even" : "odd", " for these tunnel addresses (src ",
                     even ? "<=" : ">", " dst)"));
  }
  return *vni;
}

}  // namespace nsmcert::forwarder
