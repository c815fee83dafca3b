#include "conformance/cases/features.h"

#include <algorithm>
#include <array>

namespace nsmcert::conformance {
namespace {

// Keep sorted by name (features_test checks it).
constexpr std::array kFeatures = {
    FeatureInfo{"authorization", "per-RPC token checks (OPA-equivalent policies), spec §2.3-2.4"},
    FeatureInfo{"composition",
                "passthrough NSEs chained by network service matches, spec §14 C.32"},
    FeatureInfo{"context.awareness-groups",
                "mutually aware NSEs sharing an address, spec §14 D.36"},
    FeatureInfo{"context.dns", "DNS configs in the connection context, spec §6"},
    FeatureInfo{"context.policy-routing", "policy-based routing from ip_context.policies, spec §6"},
    FeatureInfo{"grpcfd", "namespace and socket file descriptors over unix sockets, spec §2.5"},
    FeatureInfo{"heal", "healing after the death of a path element, spec §11"},
    FeatureInfo{"heal.liveness", "data-path liveness checks that trigger reselection, spec §11"},
    FeatureInfo{"interdomain", "network services across registry domains, spec §8.7"},
    FeatureInfo{"ipv6", "IPv6 addresses in connection contexts and underlays"},
    FeatureInfo{"mechanism.ipsec", "the IPSEC remote mechanism, spec §4"},
    FeatureInfo{"mechanism.kernel", "the KERNEL local mechanism (veth into a namespace), spec §4"},
    FeatureInfo{"mechanism.memif", "the MEMIF local mechanism, spec §4"},
    FeatureInfo{"mechanism.vxlan", "the VXLAN remote mechanism, spec §4"},
    FeatureInfo{"mechanism.wireguard", "the WIREGUARD remote mechanism, spec §4"},
    FeatureInfo{"registry.authorization",
                "registry refuses re-registration by another identity, "
                "spec §8.6"},
    FeatureInfo{"registry.expiry", "registrations expire unless refreshed, spec §8.2"},
    FeatureInfo{"selection.label-templates", "label templates in match routes, spec §9.2"},
    FeatureInfo{"spiffe", "mTLS with SPIFFE X.509 SVIDs, spec §2.2"},
    FeatureInfo{"upstream-refresh",
                "NSE-initiated refresh through the monitor stream, spec §14 D.41"},
    FeatureInfo{"vl3", "virtual L3 network services with prefix IPAM, spec §3.5"},
};

}  // namespace

std::span<const FeatureInfo> KnownFeatures() { return kFeatures; }

bool IsKnownFeature(std::string_view name) {
  return std::any_of(kFeatures.begin(), kFeatures.end(),
                     [&](const FeatureInfo& feature) { return feature.name == name; });
}

}  // namespace nsmcert::conformance
